using System.Globalization;
using GpuTransformer.Model;

namespace GpuTransformer.Cli;

/// <summary><c>info</c>: architecture, sizes and parameter count of a model folder.</summary>
public static class InfoCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "info [--model DIR]";

    /// <summary>Runs the command.</summary>
    public static int Run(CommandArguments args, TextWriter? stdout = null)
    {
        string model = args.String("model") ?? DefaultModel.Locate();
        args.EnsureAllUsed();
        stdout ??= Console.Out;
        using var translator = Translator.Create(model, new TranslatorOptions { Device = "cpu" });
        var i = translator.Info;
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"model:           {translator.ModelDirectory}");
        stdout.WriteLine($"architecture:    {i.Architecture}");
        stdout.WriteLine($"weights:         {Path.GetFileName(i.WeightsFile)} ({i.WeightsDType})");
        stdout.WriteLine($"d_model:         {i.ModelDim}");
        stdout.WriteLine($"layers:          {i.EncoderLayers} encoder + {i.DecoderLayers} decoder");
        stdout.WriteLine($"heads:           {i.Heads}");
        stdout.WriteLine($"ffn_dim:         {i.FfnDim}");
        stdout.WriteLine($"activation:      {i.Activation}");
        stdout.WriteLine($"vocab:           {i.SourceVocabSize} source, {i.TargetVocabSize} target");
        stdout.WriteLine($"max_positions:   {i.MaxPositions}");
        var tokenizer = translator.Tokenizer;
        stdout.WriteLine($"tokenizer:       {tokenizer.TokenizerClass} ({tokenizer.Count} ids)");
        if (tokenizer.LanguageCodes.Count > 0)
        {
            stdout.WriteLine($"languages:       {tokenizer.LanguageCodes.Count} (source {tokenizer.SourceLanguage ?? "-"}, target {tokenizer.TargetLanguage ?? "-"}): {string.Join(" ", tokenizer.LanguageCodes)}");
        }

        stdout.WriteLine(string.Format(inv, "parameters:      {0:N0}", i.Parameters));
        stdout.Flush();
        return 0;
    }
}
