using System.Text.Json;
using System.Text.Json.Nodes;
using GpuTransformer.Tests.Support;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>
/// Folders that have only a fast-tokenizer <c>tokenizer.json</c>: tiny-bart's vocabulary and merges written in the
/// layout transformers' <c>RobertaConverter</c> gives them (BPE model, ByteLevel pre-tokenizer and decoder,
/// RobertaProcessing) must tokenize and decode the reference lines exactly as the slow BartTokenizer does.
/// </summary>
public sealed class TokenizerJsonTests
{
    [Theory]
    [InlineData("flickr2016en", false)]
    [InlineData("edge", false)]
    [InlineData("edge", true)]
    public void ByteLevelBpeTokenizerJsonMatchesSlowBartReference(string set, bool pairMerges)
    {
        using var temp = new TempDirectory();
        string dir = WriteBartTokenizerJson(temp.Path, pairMerges, withConfig: true);
        var tokenizer = AutoTokenizer.Load(dir);
        Assert.IsType<TokenizerJsonTokenizer>(tokenizer);
        using var doc = TokenizerTestData.Json($"testdata/tokenizer/hf_tiny-bart_{set}.json");
        int line = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            int[] ids = TokenizerTestData.Ints(c.GetProperty("input_ids"));
            Assert.True(ids.SequenceEqual(tokenizer.EncodeSource(text)), $"line {line}: ids of {JsonSerializer.Serialize(text)}");
            Assert.True(TokenizerTestData.Ints(c.GetProperty("labels")).SequenceEqual(tokenizer.EncodeTarget(c.GetProperty("target").GetString()!)), $"line {line}: labels");
            Assert.Equal(c.GetProperty("decoded").GetString(), tokenizer.Decode(ids, skipSpecialTokens: true));
            Assert.Equal(c.GetProperty("decoded_special").GetString(), tokenizer.Decode(ids, skipSpecialTokens: false));
            line++;
        }
    }

    [Fact]
    public void WithoutTokenizerConfigTheSpecialAddedTokensAreSpecial()
    {
        using var temp = new TempDirectory();
        string dir = WriteBartTokenizerJson(temp.Path, pairMerges: false, withConfig: false);
        var tokenizer = AutoTokenizer.Load(dir);
        int[] ids = tokenizer.EncodeSource("Hello <mask> world!");
        Assert.Equal(0, ids[0]);
        Assert.Equal(2, ids[^1]);
        Assert.Contains(1000, ids);
        Assert.Equal("Hello world!", tokenizer.Decode(ids));
    }

    [Fact]
    public void CorruptTokenizerJsonNamesFileAndField()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}, "pre_tokenizer": {"type": "ByteLevel"}}""");
        var ex = Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(temp.Path));
        Assert.Equal(path, ex.FilePath);
        Assert.Equal("model.merges[0]", ex.Field);
        File.WriteAllText(path, "{\"model\": ");
        Assert.Equal(path, Assert.Throws<TokenizerFormatException>(() => AutoTokenizer.Load(temp.Path)).FilePath);
    }

    private static string WriteBartTokenizerJson(string dir, bool pairMerges, bool withConfig)
    {
        string bart = TestData.Model("tiny-bart");
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(bart, "vocab.json")))!.AsObject();
        string[] lines = File.ReadAllText(Path.Combine(bart, "merges.txt")).Split('\n')[1..^1];
        var merges = new JsonArray();
        foreach (string merge in lines)
        {
            string[] parts = merge.Split(' ');
            merges.Add(pairMerges ? new JsonArray(parts[0], parts[1]) : JsonValue.Create(merge));
        }

        var added = new JsonArray();
        foreach (var (id, content) in new[] { (0, "<s>"), (1, "<pad>"), (2, "</s>"), (3, "<unk>"), (1000, "<mask>") })
        {
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = content == "<mask>",
                ["rstrip"] = false, ["normalized"] = content != "<mask>", ["special"] = true,
            });
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "RobertaProcessing", ["sep"] = new JsonArray("</s>", 2), ["cls"] = new JsonArray("<s>", 0),
                ["trim_offsets"] = true, ["add_prefix_space"] = false,
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab.DeepClone(), ["merges"] = merges,
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), root.ToJsonString());
        if (withConfig)
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(bart, "tokenizer_config.json")))!.AsObject();
            config["tokenizer_class"] = "BartTokenizerFast";
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        }

        return dir;
    }
}
