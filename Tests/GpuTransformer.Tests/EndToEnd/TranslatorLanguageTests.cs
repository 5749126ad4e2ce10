using System.Text.Json.Nodes;
using GpuTransformer.Model;
using GpuTransformer.Model.Generation;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>How the source and target languages of multilingual models reach the input ids and generation.</summary>
public sealed class TranslatorLanguageTests
{
    /// <summary>The target language's id is forced right after the decoder start, overriding the model's default.</summary>
    [Theory]
    [InlineData("tiny-m2m100", "fr", "__fr__")]
    [InlineData("tiny-nllb", "fra_Latn", "fra_Latn")]
    [InlineData("tiny-mbart", "fr_XX", "fr_XX")]
    public void TargetLanguageIsForcedAfterTheDecoderStart(string fixture, string target, string token)
    {
        using var translator = Translator.Create(TestData.Model(fixture), new TranslatorOptions { Device = "cpu", TargetLanguage = target });
        var result = translator.Translate("A dog runs.", new GenerationOptions { NumBeams = 1, MaxNewTokens = 4 });
        int expected = ((GpuTransformer.Tokenizer.PreTrainedTokenizer)translator.Tokenizer).ConvertTokenToId(token);
        Assert.Equal(expected, result.Hypotheses[0].Ids[1]);

        // Per call, GenerationOptions wins over TranslatorOptions.
        var perCall = translator.Translate("A dog runs.", new GenerationOptions { NumBeams = 1, MaxNewTokens = 4, TargetLanguage = translator.Tokenizer.LanguageCodes[0] });
        Assert.Equal(translator.Tokenizer.GetLanguageId(translator.Tokenizer.LanguageCodes[0]), perCall.Hypotheses[0].Ids[1]);
    }

    /// <summary>The source language code is written into the input as each tokenizer does it.</summary>
    [Fact]
    public void SourceLanguageChangesTheInputIds()
    {
        using var translator = Translator.Create(TestData.Model("tiny-nllb"), new TranslatorOptions { Device = "cpu", SourceLanguage = "fra_Latn" });
        int[] ids = translator.Tokenizer.EncodeSource("Un chien.");
        Assert.Equal(translator.Tokenizer.GetLanguageId("fra_Latn"), ids[0]);
        Assert.Equal(translator.Tokenizer.EosId, ids[^1]);
    }

    /// <summary>A multilingual model with no target language anywhere is an error listing the codes.</summary>
    [Fact]
    public void MissingTargetLanguageIsAnErrorListingCodes()
    {
        using var temp = new TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-m2m100"));
        Rewrite(Path.Combine(dir, "tokenizer_config.json"), o => o.Remove("tgt_lang"));
        Rewrite(Path.Combine(dir, "generation_config.json"), o => o.Remove("forced_bos_token_id"));
        Rewrite(Path.Combine(dir, "config.json"), o => o.Remove("forced_bos_token_id"));
        using var translator = Translator.Create(dir, new TranslatorOptions { Device = "cpu" });
        var ex = Assert.Throws<ArgumentException>(() => translator.Translate("A dog runs."));
        Assert.Contains("target language", ex.Message, StringComparison.Ordinal);
        Assert.Contains(" de,", ex.Message, StringComparison.Ordinal);
        var result = translator.Translate("A dog runs.", new GenerationOptions { TargetLanguage = "de", NumBeams = 1, MaxNewTokens = 2 });
        Assert.Equal(translator.Tokenizer.GetLanguageId("de"), result.Hypotheses[0].Ids[1]);
    }

    /// <summary>mBART-cc25 checkpoints have no forced_bos_token_id: the target code starts the decoder instead.</summary>
    [Fact]
    public void MBartCc25StartsTheDecoderWithTheTargetCode()
    {
        using var temp = new TempDirectory();
        string dir = temp.CopyOf(TestData.Model("tiny-mbart"));
        Rewrite(Path.Combine(dir, "generation_config.json"), o => o.Remove("forced_bos_token_id"));
        Rewrite(Path.Combine(dir, "config.json"), o => o.Remove("forced_bos_token_id"));
        using var translator = Translator.Create(dir, new TranslatorOptions { Device = "cpu", TargetLanguage = "ro_RO" });
        var result = translator.Translate("A dog runs.", new GenerationOptions { NumBeams = 1, MaxNewTokens = 3 });
        Assert.Equal(translator.Tokenizer.GetLanguageId("ro_RO"), result.Hypotheses[0].Ids[0]);
    }

    private static void Rewrite(string path, Action<JsonObject> change)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(root);
        File.WriteAllText(path, root.ToJsonString());
    }
}
