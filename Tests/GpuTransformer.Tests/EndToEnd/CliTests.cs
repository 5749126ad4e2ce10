using System.Text.Json;
using GpuTransformer.Cli;
using GpuTransformer.Tests.Golden;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>The command-line tool, run in process with its input and output redirected.</summary>
public sealed class CliTests
{
    /// <summary>jsonl output carries HF's ids, text and beam score for every input line, in order.</summary>
    [Fact]
    public void TranslateJsonlGivesGoldenIdsTextsAndScoresInOrder()
    {
        string dir = TestData.Model("tiny-marian-en-de");
        var golden = GoldenFile.Load(dir);
        var cases = golden.Cases.ToArray();
        string input = string.Join("\n", cases.Select(c => c.GetProperty("src").GetString())) + "\n";
        var output = new StringWriter();
        int code = TranslateCommand.Run(
            new CommandArguments(["--model", dir, "--beams", "4", "--num-return", "2", "--max-new-tokens", "24", "--early-stopping", "true", "--format", "jsonl", "--batch-size", "3"]),
            new StringReader(input),
            output);
        Assert.Equal(0, code);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Length, lines.Length);
        for (int i = 0; i < cases.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var run = cases[i].GetProperty("generate").GetProperty("beam4");
            Assert.Equal(cases[i].GetProperty("src").GetString(), line.RootElement.GetProperty("input").GetString());
            var hypotheses = line.RootElement.GetProperty("hypotheses").EnumerateArray().ToArray();
            int[][] sequences = GoldenFile.IntRows(run.GetProperty("sequences"));
            var scores = GoldenFile.Flat(run.GetProperty("sequences_scores"));
            Assert.Equal(sequences.Length, hypotheses.Length);
            for (int h = 0; h < hypotheses.Length; h++)
            {
                Assert.Equal(ModelGoldenTests.TrimPadding(sequences[h], 0), GoldenFile.Ints(hypotheses[h].GetProperty("ids")));
                Assert.Equal(run.GetProperty("text")[h].GetString(), hypotheses[h].GetProperty("text").GetString());
                Assert.True(Math.Abs(scores[h] - hypotheses[h].GetProperty("score").GetDouble()) <= Numerics.Absolute + Numerics.GoldenRounding * Math.Abs(scores[h]));
            }
        }
    }

    /// <summary>Text format writes the best hypothesis per line; greedy matches the golden greedy text.</summary>
    [Fact]
    public void TranslateTextWritesOneLinePerInputLine()
    {
        string dir = TestData.Model("multi30k-en-de-small");
        var cases = GoldenFile.Load(dir).Cases.Take(5).ToArray();
        string input = string.Join("\n", cases.Select(c => c.GetProperty("src").GetString()));
        var output = new StringWriter();
        Assert.Equal(0, TranslateCommand.Run(new CommandArguments(["--model", dir, "--beams", "1", "--max-new-tokens", "64", "--batch-size", "2"]), new StringReader(input), output));
        string[] lines = output.ToString().Split('\n')[..^1];
        Assert.Equal(cases.Select(c => c.GetProperty("generate").GetProperty("greedy").GetProperty("text")[0].GetString()), lines);
    }

    /// <summary>An empty line and a blank line still give one output line each.</summary>
    [Fact]
    public void EmptyLinesKeepTheLineCount()
    {
        var output = new StringWriter();
        Assert.Equal(0, TranslateCommand.Run(new CommandArguments(["--model", TestData.Model("multi30k-en-de-small"), "--beams", "1"]), new StringReader("A dog runs.\n\n   \nA cat sleeps.\n"), output));
        Assert.Equal(4, output.ToString().Split('\n').Length - 1);
    }

    /// <summary>tokenize gives MarianTokenizer's ids (with &lt;/s&gt;) or the pieces.</summary>
    [Fact]
    public void TokenizeWritesGoldenIdsAndPieces()
    {
        string dir = TestData.Model("tiny-marian-en-de");
        foreach (var c in GoldenFile.Load(dir).Cases)
        {
            string src = c.GetProperty("src").GetString()!;
            var ids = new StringWriter();
            Assert.Equal(0, TokenizeCommand.Run(new CommandArguments(["--model", dir], "pieces"), new StringReader(src + "\n"), ids));
            Assert.Equal(GoldenFile.Ints(c.GetProperty("tokenize").GetProperty("input_ids")), JsonSerializer.Deserialize<int[]>(ids.ToString()));
            var pieces = new StringWriter();
            Assert.Equal(0, TokenizeCommand.Run(new CommandArguments(["--model", dir, "--pieces"], "pieces"), new StringReader(src + "\n"), pieces));
            Assert.Equal(c.GetProperty("tokenize").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()), JsonSerializer.Deserialize<string[]>(pieces.ToString()));
            var labels = new StringWriter();
            Assert.Equal(0, TokenizeCommand.Run(new CommandArguments(["--model", dir, "--side", "target"], "pieces"), new StringReader(c.GetProperty("target").GetProperty("text").GetString() + "\n"), labels));
            Assert.Equal(GoldenFile.Ints(c.GetProperty("target").GetProperty("labels")), JsonSerializer.Deserialize<int[]>(labels.ToString()));
        }
    }

    /// <summary>info reports the architecture and HF's parameter count (7,500,800 for the bundled model, per its README).</summary>
    [Fact]
    public void InfoPrintsArchitectureSizesAndParameters()
    {
        var output = new StringWriter();
        Assert.Equal(0, InfoCommand.Run(new CommandArguments(["--model", TestData.Model("multi30k-en-de-small")]), output));
        string text = output.ToString();
        Assert.Contains("architecture:    marian", text, StringComparison.Ordinal);
        Assert.Contains("3 encoder + 3 decoder", text, StringComparison.Ordinal);
        Assert.Contains("parameters:      7,500,800", text, StringComparison.Ordinal);
    }

    /// <summary>Unknown options and bad values are usage errors, not crashes.</summary>
    [Fact]
    public void BadArgumentsAreUsageErrors()
    {
        Assert.Throws<UsageException>(() => TranslateCommand.Run(new CommandArguments(["--beams", "zero"])));
        Assert.Throws<UsageException>(() => TranslateCommand.Run(new CommandArguments(["--early-stopping", "sometimes"])));
        Assert.Throws<UsageException>(() => TranslateCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), "--frobnicate", "1"])));
        Assert.Throws<UsageException>(() => new CommandArguments(["--beams"]));
    }

    /// <summary>Input that is not UTF-8 is an error naming the line, not silent replacement characters.</summary>
    [Fact]
    public void InvalidUtf8InputNamesTheLine()
    {
        using var temp = TestData.TempDirectory();
        string file = Path.Combine(temp.Path, "in.txt");
        File.WriteAllBytes(file, [.. "A dog.\n"u8, 0x41, 0xC3, 0x28, 0x0A]);
        var e = Assert.Throws<InvalidDataException>(() => TranslateCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), "--input", file]), null, new StringWriter()));
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
    }
}
