using System.Text.Json;
using System.Text.Json.Nodes;
using GpuTransformer.Tests.Support;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>
/// Folders that have only a fast-tokenizer <c>tokenizer.json</c> with a SentencePiece-style BPE model (the NLLB fast
/// tokenizer; transformers has no fast M2M100 tokenizer): testdata/tokenizer-json/tiny-nllb (written from the
/// fixture's sentencepiece.bpe.model by make_tokenizer_json.py, as transformers 4.43.4's NllbConverter does) must
/// tokenize, add special tokens and decode the reference lines as the HF slow tokenizer does, except where the fast
/// pipeline itself differs from the slow one (listed in <see cref="KnownDifferences"/>).
/// </summary>
public sealed class TokenizerJsonBpeTests
{
    /// <summary>
    /// Lines where HF's fast tokenizer legitimately differs from the slow reference, with the reason.
    /// Key: fixture/set/line/what.
    /// </summary>
    private static readonly Dictionary<string, string> KnownDifferences = new(StringComparer.Ordinal)
    {
        // tokenizers' Precompiled normalizer looks a grapheme cluster shorter than 6 UTF-8 bytes up as a whole and
        // replaces all of it by the mapping of the key it starts with: "e\u0301\u0301" becomes "é" and the second
        // accent is lost (fast tokens ["▁", "é", "▁d", ...]); sentencepiece rewrites "e\u0301" and keeps "\u0301".
        ["tiny-nllb/edge/53/ids"] = "Precompiled grapheme",
        ["tiny-nllb/edge/53/labels"] = "Precompiled grapheme",
    };

    public static TheoryData<string, string> Cases() => new()
    {
        { "tiny-nllb", "flickr2016en" },
        { "tiny-nllb", "edge" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TokenizerJsonOnlyFolderMatchesSlowReference(string fixture, string set)
    {
        using var temp = new TempDirectory();
        string dir = TokenizerJsonUnigramTests.FastOnlyFolder(temp.Path, fixture);
        var tokenizer = AutoTokenizer.Load(dir);
        Assert.IsType<TokenizerJsonTokenizer>(tokenizer);
        // NLLB's slow and fast decoders agree on text with special tokens kept: compared exactly.
        var differences = SlowReferenceComparison.Differences(tokenizer, fixture, set, KnownDifferences, (expected, actual) => expected == actual);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void PairFormMergesTokenizeAsStringForm()
    {
        using var temp = new TempDirectory();
        string dir = TokenizerJsonUnigramTests.FastOnlyFolder(temp.Path, "tiny-nllb");
        var stringForm = AutoTokenizer.Load(dir);

        // tokenizers 0.20 and later write each merge as ["left", "right"] instead of "left right".
        string path = Path.Combine(dir, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        var merges = json["model"]!["merges"]!.AsArray();
        var pairs = new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray([.. m!.GetValue<string>().Split(' ').Select(p => (JsonNode)JsonValue.Create(p)!)]))]);
        json["model"]!["merges"] = pairs;
        File.WriteAllText(path, json.ToJsonString());
        var pairForm = AutoTokenizer.Load(dir);

        foreach (string text in (string[])["A man in an orange hat starring at something.", "Two young, White males are outside near many bushes.", "numbers 3.14159"])
        {
            Assert.Equal(stringForm.EncodeSource(text), pairForm.EncodeSource(text));
        }
    }

    [Fact]
    public void NllbTemplateFollowsTheChosenLanguages()
    {
        using var temp = new TempDirectory();
        var tokenizer = AutoTokenizer.Load(TokenizerJsonUnigramTests.FastOnlyFolder(temp.Path, "tiny-nllb")).WithLanguages("fra_Latn", "deu_Latn");
        Assert.Equal([tokenizer.GetLanguageId("fra_Latn")], tokenizer.EncodeSource("A dog.")[..1]);
        Assert.Equal([tokenizer.GetLanguageId("deu_Latn")], tokenizer.EncodeTarget("A dog.")[..1]);
        Assert.Equal(tokenizer.EosId, tokenizer.EncodeSource("A dog.")[^1]);
    }

    [Theory]
    [InlineData(false, "accb", "a|<unk>|<unk>|b")]
    [InlineData(true, "accb", "a|<unk>|b")]
    [InlineData(true, "cc", "<unk>")]
    public void UnknownCharactersFuseOnlyWithFuseUnk(bool fuseUnk, string text, string expected)
    {
        var tokenizer = Load($$$"""{"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": {{{(fuseUnk ? "true" : "false")}}}, "vocab": {"<unk>": 0, "a": 1, "b": 2}, "merges": []}}""");
        Assert.Equal(expected, string.Join("|", tokenizer.Tokenize(text)));
    }

    [Theory]
    [InlineData("a", "<0x61>")]
    [InlineData("c", "<unk>")]
    [InlineData("\u00e9", "<0xC3>|<0xA9>")]
    [InlineData("c\u00e9c", "<0xC3>|<0xA9>|<unk>")]
    public void ByteFallbackSpellsUnknownCharactersInBytes(string text, string expected)
    {
        // As merge_word: a pending unknown is added only before the next vocabulary character or at the end, so in
        // "céc" both unknown c's come after the bytes of "é" and fuse.
        var tokenizer = Load("""{"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true, "vocab": {"<unk>": 0, "<0x61>": 1, "<0xC3>": 2, "<0xA9>": 3}, "merges": []}}""");
        Assert.Equal(expected, string.Join("|", tokenizer.Tokenize(System.Text.RegularExpressions.Regex.Unescape(text))));
    }

    [Theory]
    [InlineData("""["b c", "a b"]""", "abc", "a|bc")]
    [InlineData("""["a b", "b c"]""", "abc", "ab|c")]
    [InlineData("""["a a"]""", "aaa", "aa|a")]
    [InlineData("""[["a", "b"], ["ab", "c"]]""", "abc", "abc")]
    public void MergesApplyByLowestRankLeftmostFirst(string merges, string text, string expected)
    {
        var tokenizer = Load($$$"""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "aa": 5, "abc": 6}, "merges": {{{merges}}}}}""");
        Assert.Equal(expected, string.Join("|", tokenizer.Tokenize(text)));
    }

    [Theory]
    [InlineData(false, "a|bc")]
    [InlineData(true, "abc")]
    public void IgnoreMergesTakesAWholeWordFromTheVocabulary(bool ignoreMerges, string expected)
    {
        var tokenizer = Load($$$"""{"model": {"type": "BPE", "ignore_merges": {{{(ignoreMerges ? "true" : "false")}}}, "vocab": {"a": 0, "b": 1, "c": 2, "bc": 3, "abc": 4}, "merges": ["b c"]}}""");
        Assert.Equal(expected, string.Join("|", tokenizer.Tokenize("abc")));
    }

    [Theory]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a c"]}}""", "model.merges[0]")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}""", "model.merges[0]")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a b c"]}}""", "model.merges[1]")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a"]]}}""", "model.merges[0]")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [7]}}""", "model.merges[0]")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": {}}}""", "model.merges")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}}}""", "model.merges")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}""", "model.vocab.a")]
    [InlineData("""{"model": {"type": "BPE", "continuing_subword_prefix": "##", "vocab": {"a": 0}, "merges": []}}""", "model.continuing_subword_prefix")]
    [InlineData("""{"model": {"type": "BPE", "end_of_word_suffix": "</w>", "vocab": {"a": 0}, "merges": []}}""", "model.end_of_word_suffix")]
    [InlineData("""{"model": {"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": []}}""", "model.dropout")]
    [InlineData("""{"model": {"type": "BPE", "unk_token": "<unk>", "vocab": {"a": 0}, "merges": []}}""", "model.unk_token")]
    [InlineData("""{"model": {"type": "BPE", "fuse_unk": "yes", "vocab": {"a": 0}, "merges": []}}""", "model.fuse_unk")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "sometimes"}}""", "pre_tokenizer.prepend_scheme")]
    public void BadBpeTokenizerJsonNamesFileAndJsonPath(string json, string field)
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "tokenizer.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(temp.Path));
        Assert.Equal(path, ex.FilePath);
        Assert.Equal(field, ex.Field);
    }

    /// <summary>A folder with only the given tokenizer.json (no normalizer or pre-tokenizer: the text is one word).</summary>
    private static PreTrainedTokenizer Load(string json)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "tokenizer.json"), json);
        return (PreTrainedTokenizer)AutoTokenizer.Load(temp.Path);
    }
}
