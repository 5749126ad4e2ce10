using GpuTransformer.Model;
using GpuTransformer.Model.Generation;
using GpuTransformer.Tests.Support;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>Bad input through the public API: a clear exception naming the file or field, or HF's truncation with a warning.</summary>
public sealed class TranslatorBadInputTests
{
    /// <summary>A missing model folder names it.</summary>
    [Fact]
    public void MissingFolderIsNamed()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => Translator.Create("/nonexistent/model"));
        Assert.Contains("/nonexistent/model", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Each required tokenizer or model file, when missing, is named.</summary>
    [Theory]
    [InlineData("source.spm")]
    [InlineData("target.spm")]
    [InlineData("vocab.json")]
    [InlineData("config.json")]
    public void MissingFileIsNamed(string file)
    {
        using var temp = TestData.TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-marian-en-de"));
        File.Delete(Path.Combine(dir, file));
        var e = Assert.Throws<FileNotFoundException>(() => Translator.Create(dir));
        Assert.Contains(file, e.Message + e.FileName, StringComparison.Ordinal);
    }

    /// <summary>No weight file at all names the folder and what was looked for.</summary>
    [Fact]
    public void MissingWeightsAreNamed()
    {
        using var temp = TestData.TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-marian-en-de"));
        File.Delete(Path.Combine(dir, "model.safetensors"));
        File.Delete(Path.Combine(dir, "pytorch_model.bin"));
        var e = Assert.ThrowsAny<Exception>(() => Translator.Create(dir));
        Assert.True(e is FileNotFoundException or ModelFormatException, e.GetType().Name);
        Assert.Contains("model.safetensors", e.Message, StringComparison.Ordinal);
    }

    /// <summary>An unknown model_type is refused by name.</summary>
    [Fact]
    public void UnknownModelTypeIsNamed()
    {
        using var temp = TestData.TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-marian-en-de"));
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"model_type\": \"marian\"", "\"model_type\": \"reformer\"", StringComparison.Ordinal));
        var e = Assert.Throws<NotSupportedException>(() => Translator.Create(dir));
        Assert.Contains("reformer", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A corrupt tokenizer model names the file.</summary>
    [Fact]
    public void CorruptSpmIsNamed()
    {
        using var temp = TestData.TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-marian-en-de"));
        string spm = Path.Combine(dir, "source.spm");
        File.WriteAllBytes(spm, File.ReadAllBytes(spm)[..1000]);
        var e = Assert.Throws<TokenizerFormatException>(() => Translator.Create(dir));
        Assert.Contains("source.spm", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Truncated weights name the file; nothing crashes.</summary>
    [Fact]
    public void TruncatedWeightsAreNamed()
    {
        using var temp = TestData.TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-marian-en-de"));
        string weights = Path.Combine(dir, "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100_000]);
        var e = Assert.Throws<ModelFormatException>(() => Translator.Create(dir));
        Assert.Contains("model.safetensors", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Input longer than the model's positions is truncated as HF does (keeping &lt;/s&gt;) and a warning says so.</summary>
    [Fact]
    public void OverLongInputIsTruncatedWithAWarning()
    {
        var warnings = new List<string>();
        using var translator = Translator.Create(TestData.Model("tiny-marian-en-de"), new TranslatorOptions { Warning = warnings.Add });
        string longText = string.Join(" ", Enumerable.Repeat("A man in an orange hat starring at something.", 60));
        Assert.True(translator.Tokenizer.EncodeSource(longText).Length > translator.Config.MaxPositionEmbeddings);
        var result = translator.Translate([longText, "Hello world!"], new GenerationOptions { NumBeams = 1, MaxNewTokens = 8 });
        Assert.True(result[0].Truncated);
        Assert.False(result[1].Truncated);
        Assert.Single(warnings);
        Assert.Contains("input 0", warnings[0], StringComparison.Ordinal);
        Assert.Contains("256", warnings[0], StringComparison.Ordinal);

        // The truncated input is the first 255 tokens plus </s>: the result equals translating exactly that.
        int[] ids = translator.Tokenizer.EncodeSource(longText, 256, out bool cut);
        Assert.True(cut);
        Assert.Equal(256, ids.Length);
        Assert.Equal(translator.Tokenizer.EosId, ids[^1]);
    }

    /// <summary>Text with a lone surrogate is refused naming which input; nothing is translated.</summary>
    [Fact]
    public void InvalidUtf16IsRefusedNamingTheInput()
    {
        using var translator = Translator.Create(TestData.Model("tiny-marian-en-de"));
        var e = Assert.Throws<ArgumentException>(() => translator.Translate(["fine", "bad \ud800 text"]));
        Assert.Contains("texts[1]", e.Message, StringComparison.Ordinal);
    }

    /// <summary>An unknown device is refused by name, listing the available ones.</summary>
    [Fact]
    public void UnknownDeviceIsRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => Translator.Create(TestData.Model("tiny-marian-en-de"), new TranslatorOptions { Device = "tpu:0" }));
        Assert.Contains("tpu:0", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Out-of-range generation settings are argument errors naming the setting.</summary>
    [Fact]
    public void BadGenerationSettingsAreNamed()
    {
        using var translator = Translator.Create(TestData.Model("tiny-marian-en-de"));
        Assert.Contains("num_return_sequences", Assert.Throws<ArgumentException>(() => translator.Translate("x", new GenerationOptions { NumBeams = 2, NumReturnSequences = 3 })).Message, StringComparison.Ordinal);
        Assert.Contains("max_position_embeddings", Assert.Throws<ArgumentException>(() => translator.Translate("x", new GenerationOptions { MaxNewTokens = 1000 })).Message, StringComparison.Ordinal);
        Assert.Contains("min_new_tokens", Assert.Throws<ArgumentException>(() => translator.Translate("x", new GenerationOptions { MinNewTokens = 30, MaxNewTokens = 10 })).Message, StringComparison.Ordinal);
    }

    /// <summary>A cancelled token stops generation with OperationCanceledException.</summary>
    [Fact]
    public void CancellationStopsGeneration()
    {
        using var translator = Translator.Create(TestData.Model("tiny-marian-en-de"));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => translator.Translate(["Hello world!"], null, cts.Token));
    }

    /// <summary>min_new_tokens holds EOS back and max_new_tokens caps the length, as HF's processors do.</summary>
    [Fact]
    public void MinAndMaxNewTokensBoundTheOutput()
    {
        using var translator = Translator.Create(TestData.Model("multi30k-en-de-small"));
        var shortest = translator.Translate("A dog.", new GenerationOptions { NumBeams = 1, MaxNewTokens = 64 });
        int natural = shortest.Hypotheses[0].Ids.Count - 1;
        var longer = translator.Translate("A dog.", new GenerationOptions { NumBeams = 1, MinNewTokens = natural + 3, MaxNewTokens = 64 });
        Assert.True(longer.Hypotheses[0].Ids.Count - 1 >= natural + 3);
        Assert.Equal(0, longer.Hypotheses[0].Ids[^1]);
        var capped = translator.Translate("A dog runs across a large green field.", new GenerationOptions { NumBeams = 4, MaxNewTokens = 3 });
        Assert.Equal(4, capped.Hypotheses[0].Ids.Count);
        Assert.Equal(0, capped.Hypotheses[0].Ids[^1]);
    }
}
