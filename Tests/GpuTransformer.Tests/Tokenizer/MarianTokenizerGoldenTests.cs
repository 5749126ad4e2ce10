using System.Text.Json;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>MarianTokenizer against the Hugging Face goldens of every Marian fixture.</summary>
public sealed class MarianTokenizerGoldenTests
{
    public static TheoryData<string> Fixtures() => [.. TokenizerTestData.MarianFixtures];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void FactsMatchGolden(string fixture)
    {
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf(fixture));
        using var golden = TokenizerTestData.Json($"{fixture}/golden/golden_public.json");
        JsonElement facts = golden.RootElement.GetProperty("tokenizer_facts");
        Assert.Equal(facts.GetProperty("vocab_size").GetInt32(), tokenizer.SourceVocabSize);
        Assert.Equal(facts.GetProperty("special_ids").GetProperty("eos_token").GetInt32(), tokenizer.EosId);
        Assert.Equal(facts.GetProperty("special_ids").GetProperty("unk_token").GetInt32(), tokenizer.UnkId);
        Assert.Equal(facts.GetProperty("special_ids").GetProperty("pad_token").GetInt32(), tokenizer.PadId);
        Assert.Equal(facts.GetProperty("clean_up_tokenization_spaces").GetBoolean(), tokenizer.CleanUpTokenizationSpaces);
        Assert.Equal(512, tokenizer.ModelMaxLength);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TokenizeMatchesGolden(string fixture)
    {
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf(fixture));
        using var golden = TokenizerTestData.Json($"{fixture}/golden/golden_public.json");
        foreach (JsonElement c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            string src = c.GetProperty("src").GetString()!;
            JsonElement tok = c.GetProperty("tokenize");
            int[] expectedIds = TokenizerTestData.Ints(tok.GetProperty("input_ids"));
            Assert.Equal(TokenizerTestData.Strings(tok.GetProperty("tokens")), tokenizer.TokenizeSource(src));
            int[] ids = tokenizer.EncodeSource(src);
            Assert.Equal(expectedIds, ids);
            Assert.Equal(TokenizerTestData.Ints(tok.GetProperty("attention_mask")), tokenizer.EncodeSourceBatch([src]).AttentionMask);
            Assert.Equal(tok.GetProperty("decoded").GetString(), tokenizer.Decode(ids));
            Assert.Equal(tok.GetProperty("decoded_with_special").GetString(), tokenizer.Decode(ids, skipSpecialTokens: false));
            Assert.Equal(tok.GetProperty("decoded_use_source_tokenizer").GetString(), tokenizer.Decode(ids, useSourceTokenizer: true));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TargetLabelsMatchGolden(string fixture)
    {
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf(fixture));
        using var golden = TokenizerTestData.Json($"{fixture}/golden/golden_public.json");
        foreach (JsonElement c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            JsonElement target = c.GetProperty("target");
            string text = target.GetProperty("text").GetString()!;
            int[] labels = tokenizer.EncodeTarget(text);
            Assert.Equal(TokenizerTestData.Ints(target.GetProperty("labels")), labels);
            Assert.Equal(TokenizerTestData.Strings(target.GetProperty("tokens")), labels.Select(tokenizer.ConvertIdToToken));
            Assert.Equal(target.GetProperty("decoded").GetString(), tokenizer.Decode(labels));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void BatchesMatchGolden(string fixture)
    {
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf(fixture));
        using var golden = TokenizerTestData.Json($"{fixture}/golden/golden_public.json");
        int checkedBatches = 0;
        foreach (JsonElement b in golden.RootElement.GetProperty("batches").EnumerateArray())
        {
            string[] texts = TokenizerTestData.Strings(b.GetProperty("src"));
            EncodedBatch batch = tokenizer.EncodeSourceBatch(texts);
            int[][] ids = [.. b.GetProperty("input_ids").EnumerateArray().Select(TokenizerTestData.Ints)];
            int[][] mask = [.. b.GetProperty("attention_mask").EnumerateArray().Select(TokenizerTestData.Ints)];
            Assert.Equal(ids.Length, batch.BatchSize);
            Assert.Equal(ids[0].Length, batch.SequenceLength);
            Assert.Equal(ids.SelectMany(r => r), batch.InputIds);
            Assert.Equal(mask.SelectMany(r => r), batch.AttentionMask);
            Assert.Equal(mask.Select(r => r.Sum()), batch.Lengths);
            Assert.False(batch.AnyTruncated);
            checkedBatches++;
        }

        Assert.True(checkedBatches > 0);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GeneratedSequencesDecodeAsGolden(string fixture)
    {
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf(fixture));
        using var golden = TokenizerTestData.Json($"{fixture}/golden/golden_public.json");
        int decoded = 0;
        foreach (JsonElement c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            foreach (JsonProperty run in c.GetProperty("generate").EnumerateObject())
            {
                JsonElement[] sequences = [.. run.Value.GetProperty("sequences").EnumerateArray()];
                string[] text = TokenizerTestData.Strings(run.Value.GetProperty("text"));
                string[] withSpecial = TokenizerTestData.Strings(run.Value.GetProperty("text_with_special"));
                for (int i = 0; i < sequences.Length; i++)
                {
                    int[] ids = TokenizerTestData.Ints(sequences[i]);
                    Assert.Equal(text[i], tokenizer.Decode(ids));
                    Assert.Equal(withSpecial[i], tokenizer.Decode(ids, skipSpecialTokens: false));
                    decoded++;
                }
            }
        }

        Assert.True(decoded > 0);
    }
}
