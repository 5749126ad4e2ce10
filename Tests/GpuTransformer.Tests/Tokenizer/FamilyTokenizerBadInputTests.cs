using GpuTransformer.Model;
using GpuTransformer.Model.Generation;
using GpuTransformer.Tests.Support;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>Missing and corrupt tokenizer files, unknown languages and invalid text for the non-Marian families.</summary>
public sealed class FamilyTokenizerBadInputTests
{
    private static readonly string[] TokenizerFiles =
        ["vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "added_tokens.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"];

    [Theory]
    [InlineData("tiny-bart", "merges.txt")]
    [InlineData("tiny-bart", "vocab.json")]
    [InlineData("tiny-t5", "spiece.model")]
    [InlineData("tiny-mbart", "sentencepiece.bpe.model")]
    [InlineData("tiny-m2m100", "vocab.json")]
    [InlineData("tiny-m2m100", "sentencepiece.bpe.model")]
    [InlineData("tiny-nllb", "sentencepiece.bpe.model")]
    [InlineData("tiny-pegasus", "spiece.model")]
    public void MissingRequiredFileNamesTheFile(string fixture, string file)
    {
        using var temp = new TempDirectory();
        string dir = CopyTokenizer(temp, fixture);
        File.Delete(Path.Combine(dir, file));
        var ex = Assert.Throws<FileNotFoundException>(() => AutoTokenizer.Load(dir));
        Assert.Equal(Path.Combine(dir, file), ex.FileName);
        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tiny-bart", "vocab.json", "{\"a\": 1,")]
    [InlineData("tiny-bart", "vocab.json", "{\"a\": \"one\"}")]
    [InlineData("tiny-bart", "vocab.json", "[1, 2]")]
    [InlineData("tiny-m2m100", "vocab.json", "{\"<unk>\": -3}")]
    [InlineData("tiny-t5", "tokenizer_config.json", "{\"extra_ids\": \"many\"}")]
    [InlineData("tiny-mbart", "tokenizer_config.json", "{\"src_lang\": \"xx_YY\"}")]
    [InlineData("tiny-m2m100", "tokenizer_config.json", "{\"language_codes\": \"klingon\"}")]
    [InlineData("tiny-bart", "merges.txt", "#version: 0.2\na b c\n")]
    public void CorruptFileNamesTheFile(string fixture, string file, string content)
    {
        using var temp = new TempDirectory();
        string dir = CopyTokenizer(temp, fixture);
        File.WriteAllText(Path.Combine(dir, file), content);
        var ex = Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(dir));
        Assert.Equal(Path.Combine(dir, file), ex.FilePath);
        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedSentencePieceModelNamesTheFile()
    {
        using var temp = new TempDirectory();
        string dir = CopyTokenizer(temp, "tiny-nllb");
        string spm = Path.Combine(dir, "sentencepiece.bpe.model");
        byte[] bytes = File.ReadAllBytes(spm);
        File.WriteAllBytes(spm, bytes[..(bytes.Length / 2)]);
        var ex = Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(dir));
        Assert.Equal(spm, ex.FilePath);
    }

    [Fact]
    public void FolderWithoutTokenizerNamesFolderAndFilesLookedFor()
    {
        using var temp = new TempDirectory();
        var ex = Assert.Throws<FileNotFoundException>(() => AutoTokenizer.Load(temp.Path));
        Assert.Contains(temp.Path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("merges.txt", ex.Message, StringComparison.Ordinal);
        Assert.Contains("spiece.model", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sentencepiece.bpe.model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownTokenizerClassIsNotSupported()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "tokenizer_config.json"), "{\"tokenizer_class\": \"BertTokenizer\"}");
        var ex = Assert.Throws<NotSupportedException>(() => AutoTokenizer.Load(temp.Path));
        Assert.Contains("BertTokenizer", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tiny-mbart", "xx_YY", "de_DE")]
    [InlineData("tiny-m2m100", "en", "klingon")]
    [InlineData("tiny-nllb", "eng_Latn", "deu_Latx")]
    public void UnknownLanguageCodeListsValidCodes(string fixture, string source, string target)
    {
        var tokenizer = AutoTokenizer.Load(TestData.Model(fixture));
        var ex = Assert.Throws<ArgumentException>(() => tokenizer.WithLanguages(source, target));
        Assert.Contains(tokenizer.LanguageCodes[0], ex.Message, StringComparison.Ordinal);
        Assert.Contains(tokenizer.LanguageCodes[^1], ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => tokenizer.GetLanguageId("nope"));
    }

    [Theory]
    [InlineData("tiny-bart")]
    [InlineData("tiny-t5")]
    [InlineData("tiny-pegasus")]
    public void MonolingualModelRejectsLanguages(string fixture)
    {
        var tokenizer = AutoTokenizer.Load(TestData.Model(fixture));
        Assert.Empty(tokenizer.LanguageCodes);
        Assert.Same(tokenizer, tokenizer.WithLanguages(null, null));
        Assert.Throws<ArgumentException>(() => tokenizer.WithLanguages(null, "de"));
    }

    [Fact]
    public void TranslatorRejectsUnknownTargetLanguageListingCodes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Translator.Create(TestData.Model("tiny-nllb"), new TranslatorOptions { Device = "cpu", TargetLanguage = "german" }));
        Assert.Contains("deu_Latn", ex.Message, StringComparison.Ordinal);
        using var translator = Translator.Create(TestData.Model("tiny-m2m100"), new TranslatorOptions { Device = "cpu" });
        var perCall = Assert.Throws<ArgumentException>(() => translator.Translate("A dog.", new GenerationOptions { TargetLanguage = "xx" }));
        Assert.Contains(" de,", perCall.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tiny-bart")]
    [InlineData("tiny-t5")]
    [InlineData("tiny-mbart")]
    [InlineData("tiny-m2m100")]
    [InlineData("tiny-nllb")]
    [InlineData("tiny-pegasus")]
    public void LoneSurrogateNamesThePosition(string fixture)
    {
        var tokenizer = AutoTokenizer.Load(TestData.Model(fixture));
        var ex = Assert.Throws<ArgumentException>(() => tokenizer.EncodeSource("ab\ud800c", int.MaxValue, out _));
        Assert.Contains("index 2", ex.Message, StringComparison.Ordinal);
        var batch = Assert.Throws<ArgumentException>(() => tokenizer.EncodeSourceBatch(["fine", "x\udc00"], 64));
        Assert.Contains("Text 1", batch.Message, StringComparison.Ordinal);
    }

    private static string CopyTokenizer(TempDirectory temp, string fixture)
    {
        string source = TestData.Model(fixture);
        foreach (string file in TokenizerFiles)
        {
            string path = Path.Combine(source, file);
            if (File.Exists(path))
            {
                File.Copy(path, Path.Combine(temp.Path, file));
            }
        }

        return temp.Path;
    }
}
