using System.Text.Json;
using GpuTransformer.Tokenizer;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>
/// Compares a tokenizer with an HF slow-tokenizer reference file (testdata/tokenizer/hf_&lt;fixture&gt;_&lt;set&gt;.json)
/// line by line: ids, labels, decoded text and decoded text with special tokens. Lines listed as known differences
/// must differ, and every other line must match, so the list cannot go stale.
/// </summary>
internal static class SlowReferenceComparison
{
    /// <summary>Every mismatch (or listed difference that no longer differs), one line each; empty when all agree.</summary>
    /// <param name="tokenizer">The tokenizer under test.</param>
    /// <param name="fixture">The fixture name.</param>
    /// <param name="set">The reference set (flickr2016en, edge).</param>
    /// <param name="knownDifferences">Keys fixture/set/line/what that legitimately differ.</param>
    /// <param name="decodedSpecialEqual">How the reference's and the tokenizer's decoded_special texts are compared.</param>
    /// <returns>The problems.</returns>
    public static List<string> Differences(ISeq2SeqTokenizer tokenizer, string fixture, string set, IReadOnlyDictionary<string, string> knownDifferences, Func<string, string, bool> decodedSpecialEqual)
    {
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
                if (!equal && !knownDifferences.ContainsKey(key))
                {
                    differences.Add($"{key}: {JsonSerializer.Serialize(text)} -> {actual}");
                }
                else if (equal && knownDifferences.ContainsKey(key))
                {
                    differences.Add($"{key}: listed as a known difference but matches");
                }
            }

            int[] actualIds = tokenizer.EncodeSource(text);
            Check("ids", ids.SequenceEqual(actualIds), string.Join(",", actualIds) + " / tokens " + JsonSerializer.Serialize(tokenizer.Tokenize(text)) + " vs " + c.GetProperty("tokens").GetRawText());
            int[] labels = tokenizer.EncodeTarget(c.GetProperty("target").GetString()!);
            Check("labels", TokenizerTestData.Ints(c.GetProperty("labels")).SequenceEqual(labels), string.Join(",", labels));

            // The slow tokenizers strip the decoded text (convert_tokens_to_string: join, "▁" to " ", strip), so the
            // "▁" left after a skipped <unk> vanishes; the fast Metaspace decoder keeps it as a trailing space.
            string decoded = tokenizer.Decode(ids, skipSpecialTokens: true);
            Check("decoded", c.GetProperty("decoded").GetString() == decoded.TrimEnd(), JsonSerializer.Serialize(decoded) + " vs " + c.GetProperty("decoded").GetRawText());
            string decodedSpecial = tokenizer.Decode(ids, skipSpecialTokens: false);
            Check("decoded_special", decodedSpecialEqual(c.GetProperty("decoded_special").GetString()!, decodedSpecial), JsonSerializer.Serialize(decodedSpecial) + " vs " + c.GetProperty("decoded_special").GetRawText());
            line++;
        }

        return differences;
    }
}
