using System.Text.Encodings.Web;
using System.Text.Json;
using GpuTransformer.Model;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Generation;
using GpuTransformer.Runtime;

namespace GpuTransformer.Cli;

/// <summary>
/// <c>translate</c> (and its alias <c>generate</c>, for summarisation and T5 prompts): one output line per input line,
/// in order, as text or JSON lines.
/// </summary>
public static class TranslateCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "translate [TEXT...] [--model DIR] [--device cpu] [--beams N] [--max-new-tokens N] [--min-new-tokens N] [--num-return N] [--length-penalty F] [--early-stopping true|false|never] [--no-repeat-ngram N] [--src-lang CODE] [--tgt-lang CODE] [--batch-size N] [--threads N] [--compute-type float32|int8 [--int8-output-projection]] [--format text|jsonl] [--input FILE] [--output FILE] [--profile]";

    /// <summary>The usage line of the <c>generate</c> alias.</summary>
    public const string GenerateUsage = "generate [TEXT...] (same options as translate; for summarisation and T5 prompts)";

    /// <summary>Runs the command.</summary>
    public static int Run(CommandArguments args, TextReader? stdin = null, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        string model = args.String("model") ?? DefaultModel.Locate();
        string device = args.String("device") ?? "auto";
        int batchSize = args.Int("batch-size", 1) ?? 32;
        int? threads = args.Int("threads", 1);
        var computeType = BenchCommand.ComputeTypeOption(args);
        bool int8Output = args.Flag("int8-output-projection");
        string format = args.Choice("format", "text", "jsonl") ?? "text";
        var options = new GenerationOptions
        {
            NumBeams = args.Int("beams", 1),
            MaxNewTokens = args.Int("max-new-tokens", 1),
            MinNewTokens = args.Int("min-new-tokens", 0),
            NumReturnSequences = args.Int("num-return", 1),
            LengthPenalty = args.Float("length-penalty"),
            EarlyStopping = args.Choice("early-stopping", "true", "false", "never") switch
            {
                "true" => EarlyStoppingMode.True,
                "false" => EarlyStoppingMode.False,
                "never" => EarlyStoppingMode.Never,
                _ => null,
            },
            NoRepeatNgramSize = args.Int("no-repeat-ngram", 0),
        };
        string? sourceLanguage = args.String("src-lang");
        string? targetLanguage = args.String("tgt-lang");
        string? input = args.String("input");
        string? output = args.String("output");
        var profiler = args.Flag("profile") ? new KernelProfiler() : null;
        args.EnsureAllUsed();

        using var translator = Translator.Create(model, new TranslatorOptions
        {
            Device = device,
            Threads = threads,
            ComputeType = computeType,
            Int8OutputProjection = int8Output,
            MaxBatchSize = batchSize,
            SourceLanguage = sourceLanguage,
            TargetLanguage = targetLanguage,
            Warning = message => stderr.WriteLine("warning: " + message),
            Profiler = profiler,
        });
        using var writer = stdout is null ? LineSource.OpenOutput(output) : null;
        var sink = writer ?? stdout!;
        var chunk = new List<string>(batchSize);
        foreach (string line in LineSource.Read(args.Positional, input, stdin))
        {
            chunk.Add(line);
            if (chunk.Count == batchSize)
            {
                Write(translator.Translate(chunk, options), format, sink);
                chunk.Clear();
            }
        }

        if (chunk.Count > 0)
        {
            Write(translator.Translate(chunk, options), format, sink);
        }

        sink.Flush();
        if (profiler is not null)
        {
            // Kernel times go to standard error so that the translations on standard output stay clean.
            stderr.WriteLine($"{"kernel",-40} {"launches",9} {"ms",10}");
            foreach (var (kernel, launches, milliseconds) in profiler.Summary())
            {
                stderr.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{kernel,-40} {launches,9} {milliseconds,10:F1}"));
            }
        }

        return 0;
    }

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Write(IReadOnlyList<TranslationResult> results, string format, TextWriter sink)
    {
        foreach (var result in results)
        {
            sink.WriteLine(format == "text" ? result.Text : ToJson(result));
        }

        sink.Flush();
    }

    private static string ToJson(TranslationResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("input", result.Input);
            json.WriteStartArray("hypotheses");
            foreach (var h in result.Hypotheses)
            {
                json.WriteStartObject();
                json.WriteString("text", h.Text);
                json.WriteStartArray("ids");
                foreach (int id in h.Ids)
                {
                    json.WriteNumberValue(id);
                }

                json.WriteEndArray();
                json.WriteNumber("score", h.Score);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (result.Truncated)
            {
                json.WriteBoolean("truncated", true);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
