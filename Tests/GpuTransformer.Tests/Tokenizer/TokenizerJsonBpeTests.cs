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
        using var doc = TokenizerTestData.Json($"testdata/tokenizer/hf_{fixture}_{set}.json");
        var differences = new List<string>();
        int line = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            int[] ids = TokenizerTestData.Ints(c.GetProperty("input_ids"));
            void Check(string what, bool equal, string actual)
            {
                string key = $"{fixture}/{set}/{line}/{what}";
                if (!equal && !KnownDifferences.ContainsKey(key))
                {
                    differences.Add($"{key}: {JsonSerializer.Serialize(text)} -> {actual}");
                }
                else if (equal && KnownDifferences.ContainsKey(key))
                {
                    differences.Add($"{key}: listed as a known difference but matches");
                }
            }

            int[] actualIds = tokenizer.EncodeSource(text);
            Check("ids", ids.SequenceEqual(actualIds), string.Join(",", actualIds) + " / tokens " + JsonSerializer.Serialize(tokenizer.Tokenize(text)) + " vs " + c.GetProperty("tokens").GetRawText());
            int[] labels = tokenizer.EncodeTarget(c.GetProperty("target").GetString()!);
            Check("labels", TokenizerTestData.Ints(c.GetProperty("labels")).SequenceEqual(labels), string.Join(",", labels));
            // The slow NllbTokenizer strips the decoded text (convert_tokens_to_string: join, "▁" to " ", strip), so the
            // "▁" left after a skipped <unk> vanishes; the fast Metaspace decoder keeps it as a trailing space.
            string decoded = tokenizer.Decode(ids, skipSpecialTokens: true);
            Check("decoded", c.GetProperty("decoded").GetString() == decoded.TrimEnd(), JsonSerializer.Serialize(decoded) + " vs " + c.GetProperty("decoded").GetRawText());
            string decodedSpecial = tokenizer.Decode(ids, skipSpecialTokens: false);
            Check("decoded_special", c.GetProperty("decoded_special").GetString() == decodedSpecial, JsonSerializer.Serialize(decodedSpecial) + " vs " + c.GetProperty("decoded_special").GetRawText());
            line++;
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}
