using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuTransformer.Model;
using GpuTransformer.Model.Generation;

namespace GpuTransformer.Cli;

/// <summary>
/// <c>bench</c>: translation throughput with a fixed output length (min_new_tokens = max_new_tokens), so that engines
/// and settings are compared on the same amount of work whatever the model predicts. One warm-up run first (the same
/// batch, fewer tokens) so that JIT compilation and first-touch allocation are not timed.
/// </summary>
public static class BenchCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "bench [--model DIR] [--input FILE] [--device cpu] [--batch 32] [--beams 4] [--tokens 32] [--threads N] [--compute-type float32|int8 [--int8-output-projection]] [--json]";

    private const int WarmUpTokens = 4;

    /// <summary>Runs the command.</summary>
    /// <param name="args">The command's arguments.</param>
    /// <param name="stdout">Where the figures go; the console when null.</param>
    /// <param name="stderr">Where warnings go; the console's error stream when null.</param>
    /// <returns>0.</returns>
    /// <exception cref="UsageException">An option is invalid.</exception>
    public static int Run(CommandArguments args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        string model = args.String("model") ?? DefaultModel.Locate();
        string? input = args.String("input");
        string device = args.String("device") ?? "cpu";
        int batch = args.Int("batch", 1) ?? 32;
        int beams = args.Int("beams", 1) ?? 4;
        int tokens = args.Int("tokens", 1) ?? 32;
        int? threads = args.Int("threads", 1);
        var computeType = ComputeTypeOption(args);
        bool int8Output = args.Flag("int8-output-projection");
        bool json = args.Flag("json");
        args.EnsureAllUsed();
        if (args.Positional.Count > 0)
        {
            throw new UsageException($"bench takes no positional arguments, got '{args.Positional[0]}'");
        }

        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var sentences = Sentences(input, batch);
        long rssBeforeLoad = ProcStatusBytes("VmRSS:") ?? 0;
        using var translator = Translator.Create(model, new TranslatorOptions
        {
            Device = device,
            Threads = threads,
            ComputeType = computeType,
            Int8OutputProjection = int8Output,
            MaxBatchSize = batch,
            Warning = message => stderr.WriteLine("warning: " + message),
        });
        if (tokens >= translator.Config.MaxPositionEmbeddings)
        {
            throw new UsageException($"--tokens must be below the model's max_position_embeddings ({translator.Config.MaxPositionEmbeddings}), got {tokens}");
        }

        long peakAfterLoad = PeakRssBytes();
        int warmUp = Math.Min(tokens, WarmUpTokens);
        translator.Translate(sentences, Fixed(beams, warmUp));
        var clock = Stopwatch.StartNew();
        var results = translator.Translate(sentences, Fixed(beams, tokens));
        double seconds = clock.Elapsed.TotalSeconds;

        // Generated tokens of the returned hypotheses; the decoder start token is not generated.
        long generated = results.Sum(r => (long)r.Hypotheses[0].Ids.Count - 1);
        long sourceTokens = sentences.Sum(s => (long)translator.Tokenizer.EncodeSource(s).Length);
        double tokensPerSecond = generated / seconds;
        double msPerStep = seconds * 1000 / tokens;
        double peakMb = PeakRssBytes() / (1024.0 * 1024.0);
        double weightsMb = translator.WeightBytes / (1024.0 * 1024.0);
        double beforeLoadMb = rssBeforeLoad / (1024.0 * 1024.0);
        double afterLoadMb = peakAfterLoad / (1024.0 * 1024.0);
        int threadCount = threads ?? Kernels.Cpu.CpuParallel.ThreadCount;
        var inv = CultureInfo.InvariantCulture;
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteNumber("target_tokens_per_second", Math.Round(tokensPerSecond, 2));
                w.WriteNumber("seconds", Math.Round(seconds, 4));
                w.WriteNumber("ms_per_step", Math.Round(msPerStep, 3));
                w.WriteNumber("peak_rss_mb", Math.Round(peakMb, 1));
                w.WriteNumber("weights_mb", Math.Round(weightsMb, 1));
                w.WriteNumber("rss_before_load_mb", Math.Round(beforeLoadMb, 1));
                w.WriteNumber("peak_rss_after_load_mb", Math.Round(afterLoadMb, 1));
                w.WriteNumber("target_tokens", generated);
                w.WriteNumber("source_tokens", sourceTokens);
                w.WriteString("model", translator.ModelDirectory);
                w.WriteString("device", translator.Device);
                w.WriteNumber("batch", sentences.Count);
                w.WriteNumber("beams", beams);
                w.WriteNumber("tokens", tokens);
                w.WriteNumber("threads", threadCount);
                w.WriteString("compute_type", ComputeTypeName(computeType));
                w.WriteBoolean("int8_output_projection", int8Output && computeType == Kernels.ComputeType.Int8);
                w.WriteNumber("warmup_tokens", warmUp);
                w.WriteEndObject();
            }

            stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            stdout.WriteLine($"model:          {translator.ModelDirectory}");
            stdout.WriteLine($"device:         {translator.Device} ({translator.DeviceName}), {threadCount.ToString(inv)} threads, {ComputeTypeName(computeType)}");
            stdout.WriteLine(string.Create(inv, $"settings:       batch {sentences.Count}, beams {beams}, {tokens} new tokens per sentence ({sourceTokens} source tokens)"));
            stdout.WriteLine(string.Create(inv, $"target tokens:  {generated} in {seconds:F3} s"));
            stdout.WriteLine(string.Create(inv, $"throughput:     {tokensPerSecond:F1} target tokens/s"));
            stdout.WriteLine(string.Create(inv, $"per step:       {msPerStep:F2} ms (whole batch, encoder included)"));
            stdout.WriteLine(string.Create(inv, $"peak memory:    {peakMb:F0} MiB resident (VmHWM); weights {weightsMb:F0} MiB, {beforeLoadMb:F0} MiB resident before loading, peak {afterLoadMb:F0} MiB after loading"));
        }

        stdout.Flush();
        return 0;
    }

    private static GenerationOptions Fixed(int beams, int tokens) => new()
    {
        NumBeams = beams,
        MinNewTokens = tokens,
        MaxNewTokens = tokens,
        NumReturnSequences = 1,
    };

    /// <summary>The batch: the input file's non-empty lines (or the bundled model's golden sentences), repeated to fill it.</summary>
    private static List<string> Sentences(string? input, int batch)
    {
        List<string> lines;
        if (input is not null)
        {
            lines = LineSource.Read([], input).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
            if (lines.Count == 0)
            {
                throw new UsageException($"--input {input} has no non-empty lines");
            }
        }
        else
        {
            string golden = Path.Combine(DefaultModel.Locate(), "golden", "golden_public.json");
            using var document = JsonDocument.Parse(File.ReadAllText(golden));
            lines = document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("src").GetString() ?? "").ToList();
        }

        return Enumerable.Range(0, batch).Select(i => lines[i % lines.Count]).ToList();
    }

    /// <summary>Peak resident memory: VmHWM on Linux, the process's peak working set elsewhere.</summary>
    private static long PeakRssBytes()
    {
        if (ProcStatusBytes("VmHWM:") is long peak)
        {
            return peak;
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>A kB field of /proc/self/status in bytes, or null where there is none (not Linux).</summary>
    private static long? ProcStatusBytes(string field)
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (string line in File.ReadLines(status))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    string kb = line[field.Length..].Trim().Split(' ')[0];
                    if (long.TryParse(kb, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
                    {
                        return value * 1024;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Reads <c>--compute-type float32|int8</c> (default float32).</summary>
    /// <param name="args">The command's arguments.</param>
    /// <returns>The compute type.</returns>
    internal static Kernels.ComputeType ComputeTypeOption(CommandArguments args) =>
        args.Choice("compute-type", "float32", "int8") == "int8" ? Kernels.ComputeType.Int8 : Kernels.ComputeType.Float32;

    private static string ComputeTypeName(Kernels.ComputeType computeType) => computeType == Kernels.ComputeType.Int8 ? "int8" : "float32";
}
