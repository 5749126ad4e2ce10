using System.Text.Json;
using GpuTransformer.Tests.Support;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>
/// Folders that have only a fast-tokenizer <c>tokenizer.json</c> with a Unigram model: the files under
/// testdata/tokenizer-json/ (written from the fixtures' slow files by make_tokenizer_json.py, as transformers'
/// converters do) must tokenize, add special tokens and decode the reference lines as the HF slow tokenizer does,
/// except where the fast pipeline itself differs from the slow one (listed in <see cref="KnownDifferences"/>).
/// </summary>
public sealed class TokenizerJsonUnigramTests
{
    /// <summary>
    /// Lines where HF's fast tokenizer legitimately differs from the slow reference, with the fast behaviour.
    /// Key: fixture/set/line/what.
    /// </summary>
    private static readonly Dictionary<string, string> KnownDifferences = new(StringComparer.Ordinal)
    {
        // tokenizers' Precompiled normalizer looks a grapheme cluster shorter than 6 UTF-8 bytes up as a whole and
        // replaces all of it by the mapping of the key it starts with: "e\u0301\u0301" becomes "é" and the second
        // accent is lost (fast tokens ["▁", "é", "▁d", ...]); sentencepiece rewrites "e\u0301" and keeps "\u0301".
        ["tiny-t5/edge/53/ids"] = "Precompiled grapheme",
        ["tiny-t5/edge/53/labels"] = "Precompiled grapheme",
        ["tiny-mbart/edge/53/ids"] = "Precompiled grapheme",
        ["tiny-mbart/edge/53/labels"] = "Precompiled grapheme",
        ["tiny-pegasus/edge/53/ids"] = "Precompiled grapheme",
        ["tiny-pegasus/edge/53/labels"] = "Precompiled grapheme",

        // PegasusConverter puts WhitespaceSplit before Metaspace; Rust's char::is_whitespace counts U+0085 (NEL),
        // which the charsmap keeps, so the fast tokenizer splits "and\u0085nel" into "▁and" "▁nel" where
        // sentencepiece keeps the piece "\u0085".
        ["tiny-pegasus/edge/31/ids"] = "WhitespaceSplit NEL",
        ["tiny-pegasus/edge/31/labels"] = "WhitespaceSplit NEL",
    };

    public static TheoryData<string, string> Cases() => new()
    {
        { "tiny-t5", "flickr2016en" },
        { "tiny-t5", "edge" },
        { "tiny-mbart", "flickr2016en" },
        { "tiny-mbart", "edge" },
        { "tiny-pegasus", "flickr2016en" },
        { "tiny-pegasus", "edge" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TokenizerJsonOnlyFolderMatchesSlowReference(string fixture, string set)
    {
        using var temp = new TempDirectory();
        string dir = FastOnlyFolder(temp.Path, fixture);
        var tokenizer = AutoTokenizer.Load(dir);
        Assert.IsType<TokenizerJsonTokenizer>(tokenizer);
        // With special tokens kept the slow tokenizers decode the runs between special tokens separately (T5 puts a
        // space before each run of special tokens, sentencepiece drops a lone "▁" at a run's end); the fast decoder
        // runs over all tokens at once. The texts agree once spaces are removed.
        var differences = SlowReferenceComparison.Differences(tokenizer, fixture, set, KnownDifferences, (expected, actual) => NoSpaces(expected) == NoSpaces(actual));
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void FastDecodeKeepsSpecialTokensInPlaceWithoutSlowSpacing()
    {
        using var temp = new TempDirectory();
        var tokenizer = AutoTokenizer.Load(FastOnlyFolder(temp.Path, "tiny-t5"));
        int[] ids = tokenizer.EncodeSource("A <extra_id_0> dog.");
        Assert.Equal(((PreTrainedTokenizer)tokenizer).ConvertTokenToId("<extra_id_0>"), ids[1]);
        Assert.Equal("A<extra_id_0> dog.</s>", tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Equal("A dog.", tokenizer.Decode(ids));
    }

    [Fact]
    public void MultilingualTemplateFollowsTheChosenLanguages()
    {
        using var temp = new TempDirectory();
        var tokenizer = AutoTokenizer.Load(FastOnlyFolder(temp.Path, "tiny-mbart"));
        Assert.Contains("de_DE", tokenizer.LanguageCodes);
        Assert.Equal("en_XX", tokenizer.SourceLanguage);
        int[] source = tokenizer.WithLanguages("fr_XX", "ro_RO").EncodeSource("A dog.");
        int[] target = tokenizer.WithLanguages("fr_XX", "ro_RO").EncodeTarget("A dog.");
        Assert.Equal([tokenizer.EosId, tokenizer.GetLanguageId("fr_XX")], source[^2..]);
        Assert.Equal([tokenizer.EosId, tokenizer.GetLanguageId("ro_RO")], target[^2..]);
    }

    [Theory]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {}}}""", "model.type")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}, "normalizer": {"type": "Sequence", "normalizers": [{"type": "Strip"}, {"type": "Mystery"}]}}""", "normalizer.normalizers[1].type")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Bert"}]}}""", "pre_tokenizer.pretokenizers[0].type")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}, "decoder": {"type": "WordPiece"}}""", "decoder.type")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", "x"]]}}""", "model.vocab[0]")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 5, "vocab": [["<unk>", 0.0]]}}""", "model.unk_id")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}, "normalizer": {"type": "Precompiled", "precompiled_charsmap": "%%%"}}""", "normalizer.precompiled_charsmap")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}, "pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "sometimes"}}""", "pre_tokenizer.prepend_scheme")]
    public void BadTokenizerJsonNamesFileAndJsonPath(string json, string field)
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "tokenizer.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(temp.Path));
        Assert.Equal(path, ex.FilePath);
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void TruncatedUnigramTokenizerJsonNamesTheFile()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "tokenizer.json");
        string full = File.ReadAllText(TestData.File("tokenizer-json", "tiny-t5", "tokenizer.json"));
        File.WriteAllText(path, full[..(full.Length / 2)]);
        Assert.Equal(path, Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(temp.Path)).FilePath);
    }

    private static string NoSpaces(string text) => string.Concat(text.Where(c => c != ' '));

    /// <summary>A copy of the fixture's config files plus the generated tokenizer.json, without the slow tokenizer files.</summary>
    internal static string FastOnlyFolder(string temp, string fixture)
    {
        string source = TestData.Model(fixture);
        foreach (string file in (string[])["config.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "generation_config.json"])
        {
            if (File.Exists(Path.Combine(source, file)))
            {
                File.Copy(Path.Combine(source, file), Path.Combine(temp, file));
            }
        }

        File.Copy(TestData.File("tokenizer-json", fixture, "tokenizer.json"), Path.Combine(temp, "tokenizer.json"));
        return temp;
    }
}
