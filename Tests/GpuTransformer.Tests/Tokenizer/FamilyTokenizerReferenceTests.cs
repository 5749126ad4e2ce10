using System.Text.Json;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>
/// The BART, T5, mBART, M2M100, NLLB and Pegasus tokenizers against Hugging Face's slow tokenizers
/// (testdata/tokenizer/hf_*.json, made by testdata/reference/make_tokenizer_reference.py with transformers 4.43.4)
/// on the 1000 Multi30k test lines and the edge cases: tokens, input ids, labels and decoded texts, exactly.
/// </summary>
public sealed class FamilyTokenizerReferenceTests
{
    public static readonly string[] Fixtures = ["tiny-bart", "tiny-t5", "tiny-mbart", "tiny-m2m100", "tiny-nllb", "tiny-pegasus", "tiny-t5-nonlegacy"];

    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (string fixture in Fixtures)
        {
            data.Add(fixture, "flickr2016en");
            data.Add(fixture, "edge");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void IdsAndDecodeMatchHuggingFace(string fixture, string set)
    {
        using var doc = TokenizerTestData.Json($"testdata/tokenizer/hf_{fixture}_{set}.json");
        using var temp = new Support.TempDirectory();
        var tokenizer = (PreTrainedTokenizer)AutoTokenizer.Load(FixtureFolder(fixture, temp));
        Assert.Equal(doc.RootElement.GetProperty("tokenizer_class").GetString(), tokenizer.TokenizerClass);
        Assert.Equal(TokenizerTestData.Ints(doc.RootElement.GetProperty("all_special_ids")).Order(), tokenizer.AllSpecialIds.Order());
        var failures = new List<string>();
        int line = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            string target = c.GetProperty("target").GetString()!;
            int[] ids = TokenizerTestData.Ints(c.GetProperty("input_ids"));
            int[] labels = TokenizerTestData.Ints(c.GetProperty("labels"));
            Check("tokens", TokenizerTestData.Strings(c.GetProperty("tokens")), tokenizer.Tokenize(text));
            Check("input_ids", ids, tokenizer.EncodeSource(text));
            Check("labels", labels, tokenizer.EncodeTarget(target));
            Check("decoded", c.GetProperty("decoded").GetString(), tokenizer.Decode(ids, skipSpecialTokens: true));
            Check("decoded_special", c.GetProperty("decoded_special").GetString(), tokenizer.Decode(ids, skipSpecialTokens: false));
            Check("decoded_labels", c.GetProperty("decoded_labels").GetString(), tokenizer.Decode(labels, skipSpecialTokens: true));
            line++;

            void Check<T>(string what, T expected, T actual)
            {
                bool equal = expected is System.Collections.IEnumerable e && actual is System.Collections.IEnumerable a and not string
                    ? e.Cast<object>().SequenceEqual(a.Cast<object>())
                    : Equals(expected, actual);
                if (!equal && failures.Count < 10)
                {
                    failures.Add($"line {line} {what} of {JsonSerializer.Serialize(text)}: expected {JsonSerializer.Serialize(expected)}, got {JsonSerializer.Serialize(actual)}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(set == "edge" ? 58 : 1000, line);
    }

    /// <summary>The fixture's folder; tiny-t5-nonlegacy is tiny-t5 with <c>"legacy": false</c> in its tokenizer config.</summary>
    private static string FixtureFolder(string fixture, Support.TempDirectory temp)
    {
        if (fixture != "tiny-t5-nonlegacy")
        {
            return TokenizerTestData.PathOf($"testdata/{fixture}");
        }

        string dir = temp.CopyOf(TokenizerTestData.PathOf("testdata/tiny-t5"));
        string config = Path.Combine(dir, "tokenizer_config.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        root["legacy"] = false;
        File.WriteAllText(config, root.ToJsonString());
        return dir;
    }
}
