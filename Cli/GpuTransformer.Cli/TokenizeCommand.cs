using System.Text.Encodings.Web;
using System.Text.Json;
using GpuTransformer.Tokenizer;

namespace GpuTransformer.Cli;

/// <summary><c>tokenize</c>: for each input line a JSON array of ids as MarianTokenizer gives them, or of pieces.</summary>
public static class TokenizeCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "tokenize [TEXT...] [--model DIR] [--side source|target] [--pieces] [--input FILE] [--output FILE]";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs the command.</summary>
    public static int Run(CommandArguments args, TextReader? stdin = null, TextWriter? stdout = null)
    {
        string model = args.String("model") ?? DefaultModel.Locate();
        bool target = (args.Choice("side", "source", "target") ?? "source") == "target";
        bool pieces = args.Flag("pieces");
        string? input = args.String("input");
        string? output = args.String("output");
        args.EnsureAllUsed();

        var tokenizer = MarianTokenizer.Load(model);
        using var writer = stdout is null ? LineSource.OpenOutput(output) : null;
        var sink = writer ?? stdout!;
        foreach (string line in LineSource.Read(args.Positional, input, stdin))
        {
            sink.WriteLine(pieces
                ? JsonSerializer.Serialize(target ? tokenizer.TokenizeTarget(line) : tokenizer.TokenizeSource(line), Json)
                : JsonSerializer.Serialize(target ? tokenizer.EncodeTarget(line) : tokenizer.EncodeSource(line), Json));
        }

        sink.Flush();
        return 0;
    }
}
