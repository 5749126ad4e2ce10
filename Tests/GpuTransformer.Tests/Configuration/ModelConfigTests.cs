using System.Text.Json.Nodes;
using GpuTransformer.Model;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Tests.Weights;
using Xunit;

namespace GpuTransformer.Tests.Configuration;

public sealed class ModelConfigTests
{
    [Fact]
    public void TinyMarianConfigIsReadCompletely()
    {
        ModelConfig config = ModelConfig.Load(WeightTestData.TinyMarian);
        Assert.Equal(Path.Combine(WeightTestData.TinyMarian, "config.json"), config.SourceFile);
        Assert.Equal("marian", config.ModelType);
        Assert.Equal(64, config.DModel);
        Assert.Equal(2, config.EncoderLayers);
        Assert.Equal(2, config.DecoderLayers);
        Assert.Equal(4, config.EncoderAttentionHeads);
        Assert.Equal(4, config.DecoderAttentionHeads);
        Assert.Equal(16, config.EncoderHeadDim);
        Assert.Equal(128, config.EncoderFfnDim);
        Assert.Equal(128, config.DecoderFfnDim);
        Assert.Equal(871, config.VocabSize);
        Assert.Equal(871, config.DecoderVocabSize);
        Assert.Equal(256, config.MaxPositionEmbeddings);
        Assert.Equal("swish", config.ActivationFunction);
        Assert.True(config.ScaleEmbedding);
        Assert.False(config.NormalizeBefore);
        Assert.True(config.StaticPositionEmbeddings);
        Assert.True(config.ShareEncoderDecoderEmbeddings);
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal(870, config.PadTokenId);
        Assert.Equal(0, config.EosTokenId);
        Assert.Equal(0, config.BosTokenId);
        Assert.Equal(870, config.DecoderStartTokenId);
        Assert.Equal(0, config.ForcedEosTokenId);
        Assert.Null(config.ForcedBosTokenId);
        Assert.Equal(4, config.RawValues["num_beams"].GetInt32());
    }

    [Fact]
    public void SeparateVocabularyConfigKeepsBothSizes()
    {
        ModelConfig config = ModelConfig.Load(WeightTestData.TinyMarianSeparateVocab);
        Assert.False(config.ShareEncoderDecoderEmbeddings);
        Assert.Equal(500, config.VocabSize);
        Assert.Equal(500, config.DecoderVocabSize);
        Assert.Equal(499, config.PadTokenId);
    }

    [Fact]
    public void AbsentOptionalKeysTakeHuggingFaceDefaults()
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c =>
        {
            c.Remove("decoder_vocab_size");
            c.Remove("tie_word_embeddings");
            c.Remove("share_encoder_decoder_embeddings");
            c.Remove("scale_embedding");
            c["unrelated_future_key"] = new JsonObject { ["x"] = 1 };
        });

        ModelConfig config = ModelConfig.Load(temp.Path);
        Assert.Equal(config.VocabSize, config.DecoderVocabSize);
        Assert.True(config.TieWordEmbeddings);
        Assert.True(config.ShareEncoderDecoderEmbeddings);
        Assert.False(config.ScaleEmbedding);
    }

    [Fact]
    public void MissingConfigFileIsNamed()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<FileNotFoundException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal(temp.File("config.json"), error.FileName);
        Assert.Contains(temp.File("config.json"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownModelTypeNamesItAndListsTheSupportedOnes()
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c => c["model_type"] = "gpt_neox");
        var error = Assert.Throws<NotSupportedException>(() => ModelConfig.Load(temp.Path));
        Assert.Contains("'gpt_neox'", error.Message, StringComparison.Ordinal);
        Assert.Contains("marian", error.Message, StringComparison.Ordinal);
        Assert.Contains(temp.File("config.json"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJsonReportsFileAndLine()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("config.json"), "{\n  \"model_type\": \"marian\",\n  \"d_model\": 64,,\n}");
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal(temp.File("config.json"), error.FilePath);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("d_model")]
    [InlineData("encoder_layers")]
    [InlineData("decoder_layers")]
    [InlineData("encoder_attention_heads")]
    [InlineData("decoder_attention_heads")]
    [InlineData("encoder_ffn_dim")]
    [InlineData("decoder_ffn_dim")]
    [InlineData("vocab_size")]
    [InlineData("model_type")]
    public void MissingRequiredFieldIsNamed(string field)
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c => c.Remove(field));
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal(field, error.Field);
        Assert.Equal(temp.File("config.json"), error.FilePath);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("d_model", "\"64\"")]
    [InlineData("d_model", "64.5")]
    [InlineData("encoder_layers", "0")]
    [InlineData("vocab_size", "[871]")]
    [InlineData("scale_embedding", "\"yes\"")]
    [InlineData("pad_token_id", "true")]
    [InlineData("activation_function", "3")]
    public void IllTypedFieldIsNamed(string field, string json)
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c => c[field] = JsonNode.Parse(json));
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void DModelNotDivisibleByHeadsNamesBothFields()
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c => c["decoder_attention_heads"] = 6);
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Contains("d_model", error.Field, StringComparison.Ordinal);
        Assert.Contains("decoder_attention_heads", error.Field, StringComparison.Ordinal);
        Assert.Contains("64", error.Message, StringComparison.Ordinal);
        Assert.Contains("6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedActivationIsNamed()
    {
        using var temp = new TempDirectory();
        ConfigTestFiles.WriteEditedConfig(temp, c => c["activation_function"] = "mish");
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal("activation_function", error.Field);
        Assert.Contains("'mish'", error.Message, StringComparison.Ordinal);
        Assert.Contains("swish", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonRootThatIsNotAnObjectIsRejected()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("config.json"), "[]");
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal(temp.File("config.json"), error.FilePath);
    }
}
