using GpuTransformer.Cli;
using GpuTransformer.Model;
using GpuTransformer.Tokenizer;

const string usage = """
usage: gpu-transformer <command> [options]

commands:
  {0}
  {1}
  {2}
  {3}
  {4}
  {5}
  {6}

With no --model, the bundled English-to-German model models/multi30k-en-de-small is used.
Input is one sentence per line (positional TEXT arguments, --input FILE, or standard input).
Multilingual models (mBART, M2M100, NLLB) take --src-lang / --tgt-lang (e.g. en_XX / de_DE, en / de,
eng_Latn / deu_Latn); the tokenizer config's src_lang / tgt_lang are the defaults.
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Out.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, usage, TranslateCommand.Usage, TranslateCommand.GenerateUsage, TokenizeCommand.Usage, InfoCommand.Usage, DevicesCommand.Usage, BenchCommand.Usage, MakeRandomModelCommand.Usage));
    return args.Length == 0 ? 2 : 0;
}

try
{
    var rest = args.Skip(1);
    return args[0] switch
    {
        "translate" or "generate" => TranslateCommand.Run(new CommandArguments(rest, "profile", "int8-output-projection")),
        "tokenize" => TokenizeCommand.Run(new CommandArguments(rest, "pieces")),
        "info" => InfoCommand.Run(new CommandArguments(rest)),
        "devices" => DevicesCommand.Run(new CommandArguments(rest)),
        "bench" => BenchCommand.Run(new CommandArguments(rest, "json", "int8-output-projection")),
        "make-random-model" => MakeRandomModelCommand.Run(new CommandArguments(rest)),
        _ => throw new UsageException($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("run 'gpu-transformer --help' for usage");
    return 2;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModelFormatException or TokenizerFormatException or NotSupportedException or ArgumentException or InvalidDataException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
