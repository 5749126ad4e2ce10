using System.Text.Json.Nodes;
using GpuTransformer.Kernels;
using GpuTransformer.Model;
using GpuTransformer.Model.Architectures;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Tests.Support;
using TempDirectory = GpuTransformer.Tests.Weights.TempDirectory;
using Xunit;

namespace GpuTransformer.Tests.Configuration;

/// <summary>
/// config.json of the mBART, M2M100/NLLB and Pegasus families: their fields and HF defaults, the architecture each
/// resolves to, and the options that must be refused rather than ignored.
/// </summary>
public sealed class FamilyConfigTests
{
    [Theory]
    [InlineData("tiny-mbart", "mbart", 527, 1, 503, "gelu")]
    [InlineData("tiny-m2m100", "m2m_100", 609, 1, 517, "relu")]
    [InlineData("tiny-nllb", "m2m_100", 706, 1, 542, "relu")]
    [InlineData("tiny-pegasus", "pegasus", 603, 0, null, "relu")]
    public void FixtureConfigsAreReadCompletely(string fixture, string modelType, int vocab, int pad, int? forcedBos, string activation)
    {
        var config = ModelConfig.Load(TestData.Model(fixture));
        Assert.Equal(modelType, config.ModelType);
        Assert.Equal(64, config.DModel);
        Assert.Equal((2, 2, 4, 4, 16, 128, 128), (config.EncoderLayers, config.DecoderLayers, config.EncoderAttentionHeads, config.DecoderAttentionHeads, config.EncoderHeadDim, config.EncoderFfnDim, config.DecoderFfnDim));
        Assert.Equal(vocab, config.VocabSize);
        Assert.Equal(vocab, config.DecoderVocabSize);
        Assert.Equal(256, config.MaxPositionEmbeddings);
        Assert.Equal(activation, config.ActivationFunction);
        Assert.True(config.ScaleEmbedding);
        Assert.True(config.NormalizeBefore);
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal(pad, config.PadTokenId);
        Assert.Equal(forcedBos, config.ForcedBosTokenId);
        Assert.Equal(modelType == "pegasus" ? 0 : 2, config.DecoderStartTokenId);
    }

    [Fact]
    public void MBartIsPreNormWithEmbeddingNormAndLearnedPositionsOffsetByTwo()
    {
        var spec = ArchitectureSpec.For(ModelConfig.Load(TestData.Model("tiny-mbart")));
        Assert.Equal((true, true, true), (spec.PreNorm, spec.EmbeddingNorm, spec.FinalNorms));
        Assert.Equal((PositionEncoding.Learned, 2, (int?)null), (spec.Positions, spec.PositionOffset, spec.PositionPaddingId));
        Assert.True(spec.ScaleEmbedding);
        Assert.True(spec.FinalLogitsBias);
        Assert.Equal(Activation.Gelu, spec.Activation);
    }

    [Theory]
    [InlineData("tiny-m2m100")]
    [InlineData("tiny-nllb")]
    public void M2M100CountsSinusoidalPositionsFromThePaddingId(string fixture)
    {
        var spec = ArchitectureSpec.For(ModelConfig.Load(TestData.Model(fixture)));
        Assert.Equal((true, false, true), (spec.PreNorm, spec.EmbeddingNorm, spec.FinalNorms));
        Assert.Equal((PositionEncoding.FairseqSinusoidal, 2, (int?)1), (spec.Positions, spec.PositionOffset, spec.PositionPaddingId));
        Assert.False(spec.FinalLogitsBias);
        Assert.Equal(Activation.Relu, spec.Activation);
    }

    [Fact]
    public void PegasusIsPreNormWithMarianSinusoidsFromZero()
    {
        var spec = ArchitectureSpec.For(ModelConfig.Load(TestData.Model("tiny-pegasus")));
        Assert.Equal((true, false, true), (spec.PreNorm, spec.EmbeddingNorm, spec.FinalNorms));
        Assert.Equal((PositionEncoding.Sinusoidal, 0, (int?)null), (spec.Positions, spec.PositionOffset, spec.PositionPaddingId));
        Assert.True(spec.FinalLogitsBias);
    }

    [Fact]
    public void AbsentActivationAndScaleTakeEachConfigClassDefault()
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, "tiny-m2m100", c =>
        {
            c.Remove("activation_function");
            c.Remove("scale_embedding");
        });
        var m2m100 = ModelConfig.Load(temp.Path);
        Assert.Equal("relu", m2m100.ActivationFunction);
        Assert.True(m2m100.ScaleEmbedding);

        WriteEdited(temp, "tiny-mbart", c =>
        {
            c.Remove("activation_function");
            c.Remove("scale_embedding");
            c.Remove("normalize_before");
        });
        var mbart = ModelConfig.Load(temp.Path);
        Assert.Equal("gelu", mbart.ActivationFunction);
        Assert.False(mbart.ScaleEmbedding);
        Assert.True(mbart.NormalizeBefore);
        Assert.True(ArchitectureSpec.For(mbart).PreNorm);
    }

    [Theory]
    [InlineData("tiny-mbart", "normalize_before", false)]
    [InlineData("tiny-mbart", "add_final_layer_norm", false)]
    [InlineData("tiny-mbart", "normalize_embedding", false)]
    [InlineData("tiny-mbart", "static_position_embeddings", true)]
    [InlineData("tiny-mbart", "add_bias_logits", true)]
    [InlineData("tiny-pegasus", "normalize_before", false)]
    [InlineData("tiny-pegasus", "add_final_layer_norm", false)]
    [InlineData("tiny-pegasus", "normalize_embedding", true)]
    [InlineData("tiny-pegasus", "static_position_embeddings", false)]
    [InlineData("tiny-m2m100", "normalize_before", false)]
    [InlineData("tiny-m2m100", "static_position_embeddings", false)]
    [InlineData("tiny-nllb", "add_bias_logits", true)]
    [InlineData("tiny-bart", "normalize_before", true)]
    [InlineData("tiny-bart", "add_final_layer_norm", true)]
    [InlineData("tiny-marian-en-de", "add_bias_logits", true)]
    [InlineData("tiny-marian-en-de", "static_position_embeddings", false)]
    public void StructureKeyThatContradictsTheFamilyIsRefusedNamingIt(string fixture, string key, bool value)
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, fixture, c => c[key] = value);
        var config = ModelConfig.Load(temp.Path);
        var error = Assert.Throws<NotSupportedException>(() => ArchitectureSpec.For(config));
        Assert.Contains($"{key} {(value ? "true" : "false")}", error.Message, StringComparison.Ordinal);
        Assert.Contains(temp.File("config.json"), error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{config.ModelType}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tiny-mbart")]
    [InlineData("tiny-pegasus")]
    [InlineData("tiny-m2m100")]
    [InlineData("tiny-bart")]
    [InlineData("tiny-marian-en-de")]
    public void StructureKeysThatAgreeWithTheFamilyAreAccepted(string fixture)
    {
        using var temp = new TempDirectory();
        var spec0 = ArchitectureSpec.For(ModelConfig.Load(TestData.Model(fixture)));
        WriteEdited(temp, fixture, c =>
        {
            c["normalize_before"] = spec0.PreNorm;
            c["add_final_layer_norm"] = spec0.FinalNorms;
            c["normalize_embedding"] = spec0.EmbeddingNorm;
            c["static_position_embeddings"] = spec0.Positions != PositionEncoding.Learned;
            c["add_bias_logits"] = false;
            c["extra_pos_embeddings"] = spec0.Positions == PositionEncoding.Learned ? 2 : 58101;
        });
        Assert.Equal(spec0, ArchitectureSpec.For(ModelConfig.Load(temp.Path)));
    }

    [Theory]
    [InlineData("tiny-mbart")]
    [InlineData("tiny-bart")]
    public void LearnedPositionOffsetOtherThanTwoIsRefused(string fixture)
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, fixture, c => c["extra_pos_embeddings"] = 0);
        var error = Assert.Throws<NotSupportedException>(() => ArchitectureSpec.For(ModelConfig.Load(temp.Path)));
        Assert.Contains("extra_pos_embeddings 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IllTypedStructureKeyIsNamed()
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, "tiny-pegasus", c => c["normalize_embedding"] = "no");
        var config = ModelConfig.Load(temp.Path);
        var error = Assert.Throws<ModelFormatException>(() => ArchitectureSpec.For(config));
        Assert.Equal("normalize_embedding", error.Field);
        Assert.Equal(temp.File("config.json"), error.FilePath);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(609)]
    public void M2M100PaddingIdOutsideTheVocabularyIsNamed(int pad)
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, "tiny-m2m100", c => c["pad_token_id"] = pad);
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal("pad_token_id", error.Field);
        Assert.Contains("609", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedActivationOfANewFamilyIsNamed()
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, "tiny-nllb", c => c["activation_function"] = "mish");
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(temp.Path));
        Assert.Equal("activation_function", error.Field);
        Assert.Contains("'mish'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NllbIsNotAModelTypeAndTheErrorListsM2M100()
    {
        using var temp = new TempDirectory();
        WriteEdited(temp, "tiny-nllb", c => c["model_type"] = "nllb");
        var error = Assert.Throws<NotSupportedException>(() => ModelConfig.Load(temp.Path));
        Assert.Contains("'nllb'", error.Message, StringComparison.Ordinal);
        Assert.Contains("m2m_100", error.Message, StringComparison.Ordinal);
    }

    private static void WriteEdited(TempDirectory temp, string fixture, Action<JsonObject> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.Model(fixture), "config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(temp.File("config.json"), config.ToJsonString());
    }
}
