using System.Text.Json;
using System.Text.Json.Nodes;
using GpuTransformer.Model;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Tests.Weights;
using Xunit;

namespace GpuTransformer.Tests.Configuration;

public sealed class GenerationConfigTests
{
    public static TheoryData<string> Fixtures => new()
    {
        WeightTestData.TinyMarian,
        WeightTestData.TinyMarianSeparateVocab,
        WeightTestData.Multi30k,
    };

    [Fact]
    public void TinyMarianGenerationDefaults()
    {
        GenerationConfig generation = GenerationConfig.Load(WeightTestData.TinyMarian, ModelConfig.Load(WeightTestData.TinyMarian));
        Assert.Equal([[870]], generation.BadWordsIds);
        Assert.Equal([0], generation.ForcedEosTokenIds);
        Assert.Equal(4, generation.NumBeams);
        Assert.Equal(256, generation.MaxLength);
        Assert.Equal(870, generation.DecoderStartTokenId);
        Assert.Equal(870, generation.PadTokenId);
        Assert.Equal(0, generation.BosTokenId);
        Assert.Equal([0], generation.EosTokenIds);
        Assert.True(generation.FromModelConfig);
        Assert.Equal(Path.Combine(WeightTestData.TinyMarian, "generation_config.json"), generation.SourceFile);

        // Everything the file leaves out is at GenerationConfig()'s default.
        Assert.Null(generation.MaxNewTokens);
        Assert.Equal(0, generation.MinLength);
        Assert.Null(generation.MinNewTokens);
        Assert.Equal(EarlyStoppingMode.False, generation.EarlyStopping);
        Assert.False(generation.DoSample);
        Assert.Equal(1, generation.NumReturnSequences);
        Assert.Equal(1.0, generation.LengthPenalty);
        Assert.Equal(0, generation.NoRepeatNgramSize);
        Assert.Equal(1.0, generation.RepetitionPenalty);
        Assert.Null(generation.ForcedBosTokenId);
        Assert.Equal(1.0, generation.Temperature);
        Assert.Equal(50, generation.TopK);
        Assert.Equal(1.0, generation.TopP);
        Assert.Empty(generation.UnsupportedParameters);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void FixturesMatchTheGoldenModelGenerationConfig(string directory)
    {
        GenerationConfig generation = GenerationConfig.Load(directory, ModelConfig.Load(directory));
        using JsonDocument golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "golden", "golden_public.json")));
        JsonElement expected = golden.RootElement.GetProperty("model_generation_config");
        int compared = 0;
        foreach (JsonProperty property in expected.EnumerateObject())
        {
            object? actual = property.Name switch
            {
                "bad_words_ids" => generation.BadWordsIds,
                "bos_token_id" => generation.BosTokenId,
                "decoder_start_token_id" => generation.DecoderStartTokenId,
                "eos_token_id" => generation.EosTokenIds.Single(),
                "forced_eos_token_id" => generation.ForcedEosTokenIds.Single(),
                "max_length" => generation.MaxLength,
                "num_beams" => generation.NumBeams,
                "pad_token_id" => generation.PadTokenId,
                "_from_model_config" => generation.FromModelConfig,
                "transformers_version" => property.Value.GetString(),
                _ => throw new Xunit.Sdk.XunitException($"golden key '{property.Name}' is not compared by this test"),
            };

            Assert.Equal(JsonSerializer.Serialize(property.Value), JsonSerializer.Serialize(actual));
            compared++;
        }

        Assert.True(compared >= 8);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void WithoutGenerationConfigJsonTheModelConfigGivesTheSameDefaults(string directory)
    {
        using var temp = new TempDirectory();
        temp.CopyFrom(directory, "config.json");
        ModelConfig model = ModelConfig.Load(temp.Path);
        GenerationConfig derived = GenerationConfig.Load(temp.Path, model);
        GenerationConfig fromFile = GenerationConfig.Load(directory, ModelConfig.Load(directory));

        Assert.Equal(temp.File("config.json"), derived.SourceFile);
        Assert.True(derived.FromModelConfig);
        Assert.Equal(fromFile.BadWordsIds, derived.BadWordsIds);
        Assert.Equal(fromFile.ForcedEosTokenIds, derived.ForcedEosTokenIds);
        Assert.Equal(fromFile.NumBeams, derived.NumBeams);
        Assert.Equal(fromFile.MaxLength, derived.MaxLength);
        Assert.Equal(fromFile.DecoderStartTokenId, derived.DecoderStartTokenId);
        Assert.Equal(fromFile.PadTokenId, derived.PadTokenId);
        Assert.Equal(fromFile.EosTokenIds, derived.EosTokenIds);
    }

    [Fact]
    public void MinimalConfigGivesHuggingFaceDefaults()
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c =>
        {
            foreach (string key in (string[])["bad_words_ids", "forced_eos_token_id", "num_beams", "max_length", "eos_token_id", "bos_token_id", "pad_token_id", "decoder_start_token_id"])
            {
                c.Remove(key);
            }
        });

        GenerationConfig generation = GenerationConfig.Load(temp.Path, ModelConfig.Load(temp.Path));
        Assert.Equal(20, generation.MaxLength);
        Assert.Equal(1, generation.NumBeams);
        Assert.Null(generation.BadWordsIds);
        Assert.Empty(generation.ForcedEosTokenIds);
        Assert.Empty(generation.EosTokenIds);
        Assert.Null(generation.PadTokenId);
        Assert.Null(generation.DecoderStartTokenId);
        Assert.Equal(EarlyStoppingMode.False, generation.EarlyStopping);
    }

    [Fact]
    public void GenerationConfigJsonWinsOverConfigJson()
    {
        using var temp = new TempDirectory();
        temp.CopyFrom(WeightTestData.TinyMarian, "config.json");
        File.WriteAllText(
            temp.File("generation_config.json"),
            """
            {"num_beams": 6, "eos_token_id": [0, 5], "early_stopping": "never", "max_new_tokens": 30,
             "length_penalty": 0.6, "no_repeat_ngram_size": 3, "forced_bos_token_id": 2, "do_sample": true,
             "temperature": 0.7, "top_k": 0, "top_p": 0.9, "repetition_penalty": 1.2, "min_new_tokens": 2,
             "num_return_sequences": 3, "suppress_tokens": [1, 2], "some_future_key": {"a": 1}}
            """);

        GenerationConfig generation = GenerationConfig.Load(temp.Path, ModelConfig.Load(temp.Path));
        Assert.Equal(6, generation.NumBeams);
        Assert.Equal([0, 5], generation.EosTokenIds);
        Assert.Equal(EarlyStoppingMode.Never, generation.EarlyStopping);
        Assert.Equal(30, generation.MaxNewTokens);
        Assert.Equal(0.6, generation.LengthPenalty);
        Assert.Equal(3, generation.NoRepeatNgramSize);
        Assert.Equal(2, generation.ForcedBosTokenId);
        Assert.True(generation.DoSample);
        Assert.Equal(0.7, generation.Temperature);
        Assert.Equal(0, generation.TopK);
        Assert.Equal(0.9, generation.TopP);
        Assert.Equal(1.2, generation.RepetitionPenalty);
        Assert.Equal(2, generation.MinNewTokens);
        Assert.Equal(3, generation.NumReturnSequences);
        Assert.False(generation.FromModelConfig);
        Assert.Equal(["suppress_tokens"], generation.UnsupportedParameters);

        // Keys the generation file does not set stay at the defaults, not at config.json's values.
        Assert.Null(generation.BadWordsIds);
        Assert.Equal(20, generation.MaxLength);
        Assert.Null(generation.DecoderStartTokenId);
    }

    [Fact]
    public void FromModelConfigFileThatDisagreesWithConfigJsonIsRebuiltFromConfigJson()
    {
        // transformers 4.43 generate(): a "_from_model_config" generation config is replaced by one derived from
        // config.json when config.json has non-default generation parameters and the two differ.
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c => c["num_beams"] = 5);
        temp.CopyFrom(WeightTestData.TinyMarian, "generation_config.json");

        GenerationConfig generation = GenerationConfig.Load(temp.Path, ModelConfig.Load(temp.Path));
        Assert.Equal(5, generation.NumBeams);
        Assert.Equal(temp.File("config.json"), generation.SourceFile);
    }

    [Fact]
    public void DecoderSubConfigFillsParametersLeftAtDefault()
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c =>
        {
            c.Remove("num_beams");
            c["decoder"] = new JsonObject { ["num_beams"] = 3, ["max_length"] = 99 };
        });

        GenerationConfig generation = GenerationFromModel(temp);
        Assert.Equal(3, generation.NumBeams);
        Assert.Equal(256, generation.MaxLength);
    }

    [Theory]
    [InlineData("num_beams", "\"4\"")]
    [InlineData("early_stopping", "\"sometimes\"")]
    [InlineData("bad_words_ids", "[870]")]
    [InlineData("eos_token_id", "\"</s>\"")]
    [InlineData("length_penalty", "\"1.0\"")]
    public void IllTypedGenerationFieldIsNamed(string field, string json)
    {
        using var temp = new TempDirectory();
        temp.CopyFrom(WeightTestData.TinyMarian, "config.json");
        File.WriteAllText(temp.File("generation_config.json"), $"{{\"{field}\": {json}}}");
        var error = Assert.Throws<ModelFormatException>(() => GenerationConfig.Load(temp.Path, ModelConfig.Load(temp.Path)));
        Assert.Equal(field, error.Field);
        Assert.Equal(temp.File("generation_config.json"), error.FilePath);
    }

    [Fact]
    public void InvalidGenerationJsonReportsFileAndLine()
    {
        using var temp = new TempDirectory();
        temp.CopyFrom(WeightTestData.TinyMarian, "config.json");
        File.WriteAllText(temp.File("generation_config.json"), "{\n\"num_beams\": 4\n\"max_length\": 3}");
        var error = Assert.Throws<ModelFormatException>(() => GenerationConfig.Load(temp.Path, ModelConfig.Load(temp.Path)));
        Assert.Equal(temp.File("generation_config.json"), error.FilePath);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CloneIsIndependent()
    {
        GenerationConfig original = GenerationConfig.Load(WeightTestData.TinyMarian, ModelConfig.Load(WeightTestData.TinyMarian));
        GenerationConfig copy = original.Clone();
        copy.NumBeams = 1;
        copy.BadWordsIds![0][0] = 5;
        copy.EosTokenIds = [7];

        Assert.Equal(4, original.NumBeams);
        Assert.Equal([[870]], original.BadWordsIds);
        Assert.Equal([0], original.EosTokenIds);
        Assert.Equal([7], copy.EosTokenIds);
    }

    [Fact]
    public void DefaultConstructorHoldsHuggingFaceDefaults()
    {
        var defaults = new GenerationConfig();
        Assert.Equal(20, defaults.MaxLength);
        Assert.Equal(1, defaults.NumBeams);
        Assert.Equal(50, defaults.TopK);
        Assert.Equal(1.0, defaults.TopP);
        Assert.Equal(1.0, defaults.Temperature);
        Assert.Equal(1.0, defaults.LengthPenalty);
        Assert.Empty(defaults.EosTokenIds);
        Assert.Null(defaults.SourceFile);
    }

    private static GenerationConfig GenerationFromModel(TempDirectory temp) =>
        GenerationConfig.Load(temp.Path, ModelConfig.Load(temp.Path));
}
