using GpuTransformer.Cli;
using GpuTransformer.Model;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Generation;
using GpuTransformer.Model.Weights;
using GpuTransformer.Tests.Support;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary><c>make-random-model</c>: the folder loads as a Marian model, with the shape and ids of opus-mt-en-de.</summary>
public sealed class RandomModelTests
{
    private static string Bundled => TestData.Model("multi30k-en-de-small");

    /// <summary>The tiny preset, written through the command, loads and translates with a fixed number of new tokens.</summary>
    [Fact]
    public void TinyPresetRoundTripsThroughTranslator()
    {
        using var temp = TestData.TempDirectory();
        string dir = Path.Combine(temp.Path, "tiny");
        var output = new StringWriter();
        Assert.Equal(0, MakeRandomModelCommand.Run(new CommandArguments(["--preset", "marian-tiny", "--out", dir, "--seed", "7"]), output));
        Assert.Contains("marian-tiny", output.ToString(), StringComparison.Ordinal);

        using var translator = Translator.Create(dir, new TranslatorOptions { Device = "cpu" });
        // final_logits_bias is a buffer, not a parameter.
        Assert.Equal(RandomModelPreset.MarianTiny.StoredValues - RandomModelPreset.MarianTiny.VocabSize, translator.Info.Parameters);
        var results = translator.Translate(["A dog runs.", "Two men are playing soccer in the park."], new GenerationOptions { NumBeams = 2, MinNewTokens = 6, MaxNewTokens = 6 });
        Assert.All(results, r => Assert.Equal(7, r.Hypotheses[0].Ids.Count));
        Assert.All(results, r => Assert.Equal(RandomModelPreset.MarianTiny.PadId, r.Hypotheses[0].Ids[0]));

        // Real text keeps the bundled tokenizer's ids.
        var original = MarianTokenizer.Load(Bundled);
        Assert.Equal(original.EncodeSource("A dog runs in the snow."), translator.Tokenizer.EncodeSource("A dog runs in the snow."));
    }

    /// <summary>The same seed gives the same bytes, another seed other weights; initialisation follows HF's (std 0.02, norms 1/0, zero biases).</summary>
    [Fact]
    public void WeightsAreSeededAndInitialisedLikeHuggingFace()
    {
        using var temp = TestData.TempDirectory();
        string a = Path.Combine(temp.Path, "a"), b = Path.Combine(temp.Path, "b"), c = Path.Combine(temp.Path, "c");
        RandomModelWriter.Write(a, RandomModelPreset.MarianTiny, 1, Bundled);
        RandomModelWriter.Write(b, RandomModelPreset.MarianTiny, 1, Bundled);
        RandomModelWriter.Write(c, RandomModelPreset.MarianTiny, 2, Bundled);
        byte[] bytesA = File.ReadAllBytes(Path.Combine(a, "model.safetensors"));
        Assert.Equal(bytesA, File.ReadAllBytes(Path.Combine(b, "model.safetensors")));
        Assert.NotEqual(bytesA, File.ReadAllBytes(Path.Combine(c, "model.safetensors")));

        using var file = SafeTensorsFile.Open(Path.Combine(a, "model.safetensors"));
        var expected = RandomModelWriter.TensorShapes(RandomModelPreset.MarianTiny);
        Assert.Equal(expected.Select(t => t.Name).Order(StringComparer.Ordinal), file.Names.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected)
        {
            var info = file.GetInfo(name);
            Assert.Equal(TensorDType.F32, info.DType);
            Assert.Equal(shape, info.Shape);
        }

        float[] q = file.ReadFloat32("model.encoder.layers.0.self_attn.q_proj.weight");
        double mean = q.Average(v => (double)v), std = Math.Sqrt(q.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(std, 0.019, 0.021);
        Assert.All(file.ReadFloat32("model.decoder.layers.1.final_layer_norm.weight"), v => Assert.Equal(1f, v));
        Assert.All(file.ReadFloat32("model.decoder.layers.1.fc1.bias"), v => Assert.Equal(0f, v));
        Assert.All(file.ReadFloat32("final_logits_bias"), v => Assert.Equal(0f, v));
        float[] shared = file.ReadFloat32("model.shared.weight");
        int d = RandomModelPreset.MarianTiny.ModelDim, pad = RandomModelPreset.MarianTiny.PadId;
        Assert.All(shared.AsSpan(pad * d, d).ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>The full preset has opus-mt-en-de's configuration, ids and vocabulary (checked without writing the 296 MB of weights).</summary>
    [Fact]
    public void BasePresetHasOpusMtEnDeShape()
    {
        using var temp = TestData.TempDirectory();
        string dir = Path.Combine(temp.Path, "base");
        RandomModelWriter.Write(dir, RandomModelPreset.MarianBase, 1234, Bundled, writeWeights: false);
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));

        var config = ModelConfig.Load(dir);
        Assert.Equal("marian", config.ModelType);
        Assert.Equal(512, config.DModel);
        Assert.Equal((8, 8), (config.EncoderAttentionHeads, config.DecoderAttentionHeads));
        Assert.Equal((6, 6), (config.EncoderLayers, config.DecoderLayers));
        Assert.Equal((2048, 2048), (config.EncoderFfnDim, config.DecoderFfnDim));
        Assert.Equal((58101, 58101), (config.VocabSize, config.DecoderVocabSize));
        Assert.Equal("swish", config.ActivationFunction);
        Assert.Equal(512, config.MaxPositionEmbeddings);
        Assert.True(config.StaticPositionEmbeddings);
        Assert.True(config.ScaleEmbedding);
        Assert.True(config.ShareEncoderDecoderEmbeddings);
        Assert.Equal(58100, config.PadTokenId);
        Assert.Equal(58100, config.DecoderStartTokenId);
        Assert.Equal(0, config.EosTokenId);
        Assert.Equal(0, config.ForcedEosTokenId);

        var generation = GenerationConfig.Load(dir, config);
        Assert.Equal([58100], Assert.Single(generation.BadWordsIds!));
        Assert.Equal(4, generation.NumBeams);
        Assert.Equal(512, generation.MaxLength);
        Assert.Equal(58100, generation.DecoderStartTokenId);

        var tokenizer = MarianTokenizer.Load(dir);
        Assert.Equal(58101, tokenizer.SourceVocabSize);
        Assert.Equal(58101, tokenizer.TargetVocabSize);
        Assert.Equal(MarianTokenizer.Load(Bundled).EncodeSource("Two dogs play in the snow."), tokenizer.EncodeSource("Two dogs play in the snow."));

        // opus-mt-en-de's 73,886,208 parameters (shared embedding once, no positions) plus final_logits_bias.
        Assert.Equal(73_886_208 + 58_101, RandomModelPreset.MarianBase.StoredValues);
        Assert.Equal(RandomModelPreset.MarianBase.StoredValues, RandomModelWriter.TensorShapes(RandomModelPreset.MarianBase).Sum(t => t.Shape.Aggregate(1L, (x, y) => x * y)));
    }

    /// <summary>Bad options are usage errors.</summary>
    [Fact]
    public void BadOptionsAreUsageErrors()
    {
        Assert.Throws<UsageException>(() => MakeRandomModelCommand.Run(new CommandArguments(["--preset", "marian-base"]), TextWriter.Null));
        Assert.Throws<UsageException>(() => MakeRandomModelCommand.Run(new CommandArguments(["--out", "x", "--preset", "gpt"]), TextWriter.Null));
        Assert.Throws<UsageException>(() => MakeRandomModelCommand.Run(new CommandArguments(["--out", "x", "--seed", "-1"]), TextWriter.Null));
        Assert.Throws<UsageException>(() => MakeRandomModelCommand.Run(new CommandArguments(["--out", "x", "--bogus", "1"]), TextWriter.Null));
    }
}
