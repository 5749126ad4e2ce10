using System.Diagnostics;
using System.Globalization;

namespace GpuTransformer.Cli;

/// <summary>
/// <c>make-random-model</c>: writes a full-size, randomly initialised Marian model folder (the shape of opus-mt-en-de)
/// for benchmarks, with the bundled model's tokenizer padded to the full vocabulary.
/// </summary>
public static class MakeRandomModelCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "make-random-model --out DIR [--preset marian-base|marian-tiny] [--seed N]";

    /// <summary>Runs the command.</summary>
    /// <param name="args">The command's arguments.</param>
    /// <param name="stdout">Where the summary goes; the console when null.</param>
    /// <returns>0.</returns>
    /// <exception cref="UsageException">--out is missing, or an option is invalid.</exception>
    public static int Run(CommandArguments args, TextWriter? stdout = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var preset = RandomModelPreset.Find(args.String("preset") ?? RandomModelPreset.MarianBase.Name);
        string output = args.String("out") ?? throw new UsageException("make-random-model needs --out DIR");
        int seed = args.Int("seed", 0) ?? 1234;
        args.EnsureAllUsed();
        if (args.Positional.Count > 0)
        {
            throw new UsageException($"make-random-model takes no positional arguments, got '{args.Positional[0]}'");
        }

        stdout ??= Console.Out;
        var clock = Stopwatch.StartNew();
        RandomModelWriter.Write(output, preset, (ulong)seed, DefaultModel.Locate());
        stdout.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"wrote {output}: {preset.Name}, {preset.StoredValues / 1e6:F1}M float32 values ({preset.StoredValues * 4 / 1e6:F0} MB), seed {seed}, in {clock.Elapsed.TotalSeconds:F1} s"));
        stdout.Flush();
        return 0;
    }
}
