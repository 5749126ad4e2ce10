using GpuTransformer.Cli;
using GpuTransformer.Tests.Golden;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>The command-line tool on the non-Marian families: languages, the generate alias, info and tokenize.</summary>
public sealed class CliFamilyTests
{
    /// <summary>translate with --src-lang/--tgt-lang gives HF's greedy texts on the multilingual fixtures.</summary>
    [Theory]
    [InlineData("tiny-mbart", "en_XX", "de_DE")]
    [InlineData("tiny-m2m100", "en", "de")]
    [InlineData("tiny-nllb", "eng_Latn", "deu_Latn")]
    public void TranslateWithLanguagesGivesGoldenGreedyTexts(string fixture, string source, string target)
    {
        string dir = TestData.Model(fixture);
        var cases = GoldenFile.Load(dir).Cases.Take(4).ToArray();
        string input = string.Join("\n", cases.Select(c => c.GetProperty("src").GetString()));
        var output = new StringWriter();
        int code = TranslateCommand.Run(
            new CommandArguments(["--model", dir, "--device", "cpu", "--beams", "1", "--max-new-tokens", "24", "--no-repeat-ngram", "0", "--src-lang", source, "--tgt-lang", target]),
            new StringReader(input),
            output);
        Assert.Equal(0, code);
        Assert.Equal(cases.Select(c => c.GetProperty("generate").GetProperty("greedy").GetProperty("text")[0].GetString()), output.ToString().Split('\n')[..^1]);
    }

    /// <summary>The generate alias (same options) runs summarisation-style models: T5 and Pegasus.</summary>
    [Theory]
    [InlineData("tiny-t5")]
    [InlineData("tiny-pegasus")]
    [InlineData("tiny-bart")]
    public void GenerateGivesGoldenGreedyTexts(string fixture)
    {
        string dir = TestData.Model(fixture);
        var cases = GoldenFile.Load(dir).Cases.Take(4).ToArray();
        string input = string.Join("\n", cases.Select(c => c.GetProperty("src").GetString()));
        var output = new StringWriter();
        Assert.Equal(0, TranslateCommand.Run(new CommandArguments(["--model", dir, "--device", "cpu", "--beams", "1", "--max-new-tokens", "24", "--no-repeat-ngram", "0"]), new StringReader(input), output));
        Assert.Equal(cases.Select(c => c.GetProperty("generate").GetProperty("greedy").GetProperty("text")[0].GetString()), output.ToString().Split('\n')[..^1]);
    }

    /// <summary>An unknown language code fails with the valid codes listed.</summary>
    [Fact]
    public void UnknownTargetLanguageListsCodes()
    {
        var ex = Assert.Throws<ArgumentException>(() => TranslateCommand.Run(
            new CommandArguments(["--model", TestData.Model("tiny-mbart"), "--device", "cpu", "--tgt-lang", "de"]), new StringReader("A dog.\n"), new StringWriter()));
        Assert.Contains("de_DE", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>info names the tokenizer and, for multilingual models, the languages.</summary>
    [Fact]
    public void InfoShowsTokenizerAndLanguages()
    {
        var output = new StringWriter();
        Assert.Equal(0, InfoCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-nllb")]), output));
        string text = output.ToString();
        Assert.Contains("NllbTokenizer", text, StringComparison.Ordinal);
        Assert.Contains("source eng_Latn, target deu_Latn", text, StringComparison.Ordinal);
        output = new StringWriter();
        Assert.Equal(0, InfoCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-bart")]), output));
        Assert.Contains("BartTokenizer", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>tokenize uses each family's tokenizer: the golden input ids of the first case.</summary>
    [Theory]
    [InlineData("tiny-bart")]
    [InlineData("tiny-t5")]
    [InlineData("tiny-m2m100")]
    [InlineData("tiny-pegasus")]
    public void TokenizeGivesGoldenIds(string fixture)
    {
        string dir = TestData.Model(fixture);
        var first = GoldenFile.Load(dir).Cases.First();
        var output = new StringWriter();
        Assert.Equal(0, TokenizeCommand.Run(new CommandArguments(["--model", dir], "pieces"), new StringReader(first.GetProperty("src").GetString() + "\n"), output));
        Assert.Equal(
            "[" + string.Join(",", GoldenFile.Ints(first.GetProperty("tokenize").GetProperty("input_ids"))) + "]",
            output.ToString().Trim());
    }
}
