using System.Text.Json;
using GpuTransformer.Cli;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary><c>bench</c>: option parsing and the shape of its report (its speed is never asserted).</summary>
public sealed class BenchCommandTests
{
    /// <summary>--json prints one object with the throughput, time, memory and the settings used.</summary>
    [Fact]
    public void JsonReportHasTheFiguresAndSettings()
    {
        var output = new StringWriter();
        int code = BenchCommand.Run(
            new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), "--device", "cpu", "--batch", "3", "--beams", "2", "--tokens", "5", "--threads", "1", "--json"], "json"),
            output,
            TextWriter.Null);
        Assert.Equal(0, code);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var json = JsonDocument.Parse(Assert.Single(lines));
        var root = json.RootElement;
        Assert.True(root.GetProperty("target_tokens_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("seconds").GetDouble() > 0);
        Assert.True(root.GetProperty("peak_rss_mb").GetDouble() > 0);
        Assert.Equal(15, root.GetProperty("target_tokens").GetInt32());
        Assert.Equal(3, root.GetProperty("batch").GetInt32());
        Assert.Equal(2, root.GetProperty("beams").GetInt32());
        Assert.Equal(5, root.GetProperty("tokens").GetInt32());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal("float32", root.GetProperty("compute_type").GetString());
        Assert.False(root.GetProperty("int8_output_projection").GetBoolean());
    }

    /// <summary>--compute-type int8 (and --int8-output-projection) run and are reported in the JSON.</summary>
    [Fact]
    public void JsonReportNamesInt8()
    {
        if (!Int8Support.PresentOrRefused())
        {
            return;
        }

        var output = new StringWriter();
        int code = BenchCommand.Run(
            new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), "--device", "cpu", "--batch", "2", "--beams", "1", "--tokens", "3", "--compute-type", "int8", "--int8-output-projection", "--json"], "json", "int8-output-projection"),
            output,
            TextWriter.Null);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output.ToString().Trim());
        Assert.Equal("int8", json.RootElement.GetProperty("compute_type").GetString());
        Assert.True(json.RootElement.GetProperty("int8_output_projection").GetBoolean());
    }

    /// <summary>The text report reads the sentences of --input, repeated to fill the batch.</summary>
    [Fact]
    public void TextReportUsesTheInputFile()
    {
        using var temp = TestData.TempDirectory();
        string input = Path.Combine(temp.Path, "in.txt");
        File.WriteAllText(input, "A dog runs.\n\nTwo cats sleep.\n");
        var output = new StringWriter();
        Assert.Equal(0, BenchCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), "--input", input, "--batch", "5", "--beams", "1", "--tokens", "3"], "json"), output, TextWriter.Null));
        string text = output.ToString();
        Assert.Contains("batch 5, beams 1, 3 new tokens", text, StringComparison.Ordinal);
        Assert.Contains("15 in", text, StringComparison.Ordinal);
        Assert.Contains("target tokens/s", text, StringComparison.Ordinal);
    }

    /// <summary>Bad options fail with a usage error before any model is loaded.</summary>
    [Theory]
    [InlineData("--batch", "0")]
    [InlineData("--beams", "x")]
    [InlineData("--tokens", "-3")]
    [InlineData("--threads", "0")]
    [InlineData("--compute-type", "fp16")]
    [InlineData("--unknown", "1")]
    public void BadOptionsAreUsageErrors(string name, string value)
    {
        var e = Assert.Throws<UsageException>(() => BenchCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), name, value], "json"), TextWriter.Null, TextWriter.Null));
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
    }

    /// <summary>More new tokens than the model has positions is a usage error naming the limit.</summary>
    [Fact]
    public void TooManyTokensIsAUsageError()
    {
        var e = Assert.Throws<UsageException>(() => BenchCommand.Run(new CommandArguments(["--model", TestData.Model("tiny-marian-en-de"), "--tokens", "4000"], "json"), TextWriter.Null, TextWriter.Null));
        Assert.Contains("max_position_embeddings", e.Message, StringComparison.Ordinal);
    }
}
