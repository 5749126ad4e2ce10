using System.Text.Json;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// Chooses and loads the tokenizer of a Hugging Face model folder: by <c>tokenizer_class</c> in
/// <c>tokenizer_config.json</c> when it names one this library has, else by <c>model_type</c> in
/// <c>config.json</c>, else by the tokenizer files present. The slow tokenizer's files are preferred (they are
/// what the goldens are made with); a folder that has only a fast <c>tokenizer.json</c> gets a
/// <see cref="TokenizerJsonTokenizer"/>.
/// </summary>
public static class AutoTokenizer
{
    /// <summary>The tokenizer classes <see cref="Load"/> knows (a <c>Fast</c> suffix is accepted and ignored).</summary>
    public static IReadOnlyList<string> SupportedClasses { get; } =
        ["MarianTokenizer", "BartTokenizer", "RobertaTokenizer", "T5Tokenizer", "MBartTokenizer", "MBart50Tokenizer", "M2M100Tokenizer", "NllbTokenizer", "PegasusTokenizer"];

    private static readonly string[] LookedFor =
        ["tokenizer_config.json (tokenizer_class)", "config.json (model_type)", "source.spm + target.spm + vocab.json (Marian)", "vocab.json + merges.txt (BART)", "spiece.model (T5)", "sentencepiece.bpe.model (mBART / NLLB; with vocab.json: M2M100)", "tokenizer.json (fast tokenizer; byte-level BPE, Unigram or SentencePiece-style BPE)"];

    /// <summary>Loads the tokenizer of a model folder.</summary>
    /// <param name="modelDirectory">The folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">No tokenizer fits the folder (the message names the folder and what was
    /// looked for), or a file the chosen tokenizer needs is missing (the message names it).</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    /// <exception cref="NotSupportedException">The folder names a tokenizer class this library does not have.</exception>
    public static ISeq2SeqTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        string? tokenizerClass = ReadString(Path.Combine(modelDirectory, "tokenizer_config.json"), "tokenizer_class");
        if (tokenizerClass is not null)
        {
            string name = tokenizerClass.EndsWith("Fast", StringComparison.Ordinal) ? tokenizerClass[..^4] : tokenizerClass;
            if (OnlyFastFiles(name, modelDirectory))
            {
                return TokenizerJsonTokenizer.Load(modelDirectory);
            }

            if (LoadByClass(name, modelDirectory) is { } byClass)
            {
                return byClass;
            }

            throw new NotSupportedException(
                $"Tokenizer class '{tokenizerClass}' of '{Path.Combine(modelDirectory, "tokenizer_config.json")}' is not supported; supported: {string.Join(", ", SupportedClasses)}.");
        }

        string? modelType = ReadString(Path.Combine(modelDirectory, "config.json"), "model_type");
        bool Has(string file) => File.Exists(Path.Combine(modelDirectory, file));
        string? chosen = modelType switch
        {
            "marian" => "MarianTokenizer",
            "bart" => "BartTokenizer",
            "t5" or "mt5" => "T5Tokenizer",
            "mbart" => "MBartTokenizer",
            "m2m_100" => Has("vocab.json") ? "M2M100Tokenizer" : "NllbTokenizer",
            "nllb" => "NllbTokenizer",
            "pegasus" => "PegasusTokenizer",
            _ => null,
        };
        chosen ??= Has("source.spm") ? "MarianTokenizer"
            : Has("merges.txt") ? "BartTokenizer"
            : Has("sentencepiece.bpe.model") ? (Has("vocab.json") ? "M2M100Tokenizer" : "MBartTokenizer")
            : Has("spiece.model") ? "T5Tokenizer"
            : null;
        if ((chosen is null || OnlyFastFiles(chosen, modelDirectory)) && Has("tokenizer.json"))
        {
            return TokenizerJsonTokenizer.Load(modelDirectory);
        }

        if (chosen is null)
        {
            throw new FileNotFoundException(
                $"No tokenizer found in '{modelDirectory}'{(modelType is null ? string.Empty : $" (model_type '{modelType}')")}; looked for: {string.Join("; ", LookedFor)}.",
                modelDirectory);
        }

        return LoadByClass(chosen, modelDirectory)!;
    }

    /// <summary>Whether the slow tokenizer's main file is absent but a <c>tokenizer.json</c> is there.</summary>
    private static bool OnlyFastFiles(string name, string directory)
    {
        string? slowFile = name switch
        {
            "MarianTokenizer" => "source.spm",
            "BartTokenizer" or "RobertaTokenizer" or "GPT2Tokenizer" => "merges.txt",
            "T5Tokenizer" or "PegasusTokenizer" => "spiece.model",
            "MBartTokenizer" or "MBart50Tokenizer" or "M2M100Tokenizer" or "NllbTokenizer" => "sentencepiece.bpe.model",
            _ => null,
        };
        return (slowFile is null || !File.Exists(Path.Combine(directory, slowFile))) && File.Exists(Path.Combine(directory, "tokenizer.json"));
    }

    private static ISeq2SeqTokenizer? LoadByClass(string name, string directory) => name switch
    {
        "MarianTokenizer" => MarianTokenizer.Load(directory),
        "BartTokenizer" or "RobertaTokenizer" => BartTokenizer.Load(directory),
        "T5Tokenizer" => T5Tokenizer.Load(directory),
        "MBartTokenizer" => MBartTokenizer.Load(directory),
        "MBart50Tokenizer" => MBartTokenizer.Load(directory, mbart50: true),
        "M2M100Tokenizer" => M2M100Tokenizer.Load(directory),
        "NllbTokenizer" => NllbTokenizer.Load(directory),
        "PegasusTokenizer" => PegasusTokenizer.Load(directory),
        _ => null,
    };

    private static string? ReadString(string path, string name)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using JsonDocument doc = TokenizerJson.Parse(path);
        return doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty(name, out JsonElement value)
            && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }
}
