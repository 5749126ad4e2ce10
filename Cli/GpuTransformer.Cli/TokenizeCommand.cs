using System.Text.Encodings.Web;
using System.Text.Json;
using GpuTransformer.Tokenizer;

namespace GpuTransformer.Cli;

/// <summary><c>tokenize</c>: for each input line a JSON array of ids as the model's tokenizer gives them, or of pieces.</summary>
public static class TokenizeCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "tokenize [TEXT...] [--model DIR] [--side source|target] [--src-lang CODE] [--tgt-lang CODE] [--pieces] [--input FILE] [--output FILE]";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs the command.</summary>
    public static int Run(CommandArguments args, TextReader? stdin = null, TextWriter? stdout = null)
    {
        string model = args.String("model") ?? DefaultModel.Locate();
        bool target = (args.Choice("side", "source", "target") ?? "source") == "target";
        bool pieces = args.Flag("pieces");
        string? sourceLanguage = args.String("src-lang");
        string? targetLanguage = args.String("tgt-lang");
        string? input = args.String("input");
        string? output = args.String("output");
        args.EnsureAllUsed();

        var tokenizer = AutoTokenizer.Load(model).WithLanguages(sourceLanguage, targetLanguage);
        using var writer = stdout is null ? LineSource.OpenOutput(output) : null;
        var sink = writer ?? stdout!;
        foreach (string line in LineSource.Read(args.Positional, input, stdin))
        {
            sink.WriteLine(pieces
                ? JsonSerializer.Serialize(target && tokenizer is MarianTokenizer marian ? marian.TokenizeTarget(line) : tokenizer.Tokenize(line), Json)
                : JsonSerializer.Serialize(target ? tokenizer.EncodeTarget(line) : tokenizer.EncodeSource(line), Json));
        }

        sink.Flush();
        return 0;
    }
}
