namespace GpuTransformer.Tokenizer;

/// <summary>
/// Hugging Face's slow <c>M2M100Tokenizer</c> (transformers 4.43): <c>sentencepiece.bpe.model</c> segments, the
/// pieces map through <c>vocab.json</c> (fairseq's dictionary), the language tokens <c>__xx__</c> follow the
/// vocabulary; a sequence is <c>__src__ X &lt;/s&gt;</c>, a target <c>__tgt__ X &lt;/s&gt;</c>.
/// </summary>
public sealed class M2M100Tokenizer : PreTrainedTokenizer
{
    private static readonly string[] M2M100Codes = ["af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs", "cy", "da", "de", "el", "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "he", "hi", "hr", "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko", "lb", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps", "pt", "ro", "ru", "sd", "si", "sk", "sl", "so", "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr", "uk", "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu"];

    private static readonly string[] Wmt21Codes = ["en", "ha", "is", "ja", "cs", "ru", "zh", "de"];

    private readonly SentencePieceModel _spm;
    private readonly Dictionary<string, int> _encoder;
    private readonly Dictionary<int, string> _decoder = [];
    private readonly Dictionary<string, int> _langTokenToId = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _idToLangToken = [];
    private readonly string[] _codes;

    private M2M100Tokenizer(string directory)
        : base(directory)
    {
        var config = TokenizerConfig.Load(directory);
        string vocabPath = Path.Combine(directory, "vocab.json");
        _encoder = TokenizerJson.ReadVocab(vocabPath);
        _spm = SentencePieceModel.Load(Path.Combine(directory, "sentencepiece.bpe.model"));
        foreach (var (token, id) in _encoder)
        {
            _decoder[id] = token;
        }

        string languageCodes = config.GetString("language_codes") ?? "m2m100";
        _codes = languageCodes switch
        {
            "m2m100" => M2M100Codes,
            "wmt21" => Wmt21Codes,
            _ => throw new TokenizerFormatException(config.ConfigPath, "language_codes", $"expected \"m2m100\" or \"wmt21\", found \"{languageCodes}\""),
        };
        for (int i = 0; i < _codes.Length; i++)
        {
            _langTokenToId[LanguageToken(_codes[i])] = _encoder.Count + i;
            _idToLangToken[_encoder.Count + i] = LanguageToken(_codes[i]);
        }

        var specials = new Dictionary<string, AddedToken?>
        {
            ["bos_token"] = config.SpecialToken("bos_token", "<s>"),
            ["eos_token"] = config.SpecialToken("eos_token", "</s>"),
            ["unk_token"] = config.SpecialToken("unk_token", "<unk>"),
            ["sep_token"] = config.SpecialToken("sep_token", "</s>"),
            ["pad_token"] = config.SpecialToken("pad_token", "<pad>"),
        };
        string unk = specials["unk_token"]?.Content ?? "<unk>";
        if (!_encoder.ContainsKey(unk))
        {
            throw new TokenizerFormatException(vocabPath, unk, $"the unknown token '{unk}' must be in the vocabulary");
        }

        var additional = new List<string>(config.AdditionalSpecialTokens);
        foreach (string code in _codes)
        {
            if (!additional.Contains(LanguageToken(code)))
            {
                additional.Add(LanguageToken(code));
            }
        }

        InitializeSpecialTokens(config, specials, additional, new Dictionary<int, AddedToken>());
        SourceLanguage = config.GetString("src_lang") ?? "en";
        TargetLanguage = config.GetString("tgt_lang");
    }

    /// <inheritdoc/>
    public override string TokenizerClass => "M2M100Tokenizer";

    /// <inheritdoc/>
    public override int VocabSize => _encoder.Count;

    /// <inheritdoc/>
    public override IReadOnlyList<string> LanguageCodes => _codes;

    /// <summary>Loads <c>vocab.json</c>, <c>sentencepiece.bpe.model</c> and the optional <c>tokenizer_config.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A tokenizer file is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    public static M2M100Tokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new M2M100Tokenizer(modelDirectory);
    }

    private protected override string LanguageToken(string language) => $"__{language}__";

    private protected override void TokenizeChunk(string chunk, List<string> tokens) => tokens.AddRange(_spm.EncodeAsPieces(chunk));

    private protected override int TokenToIdCore(string token) =>
        _langTokenToId.TryGetValue(token, out int id) ? id
            : _encoder.TryGetValue(token, out id) ? id : _encoder[UnkToken];

    private protected override string? IdToTokenCore(int id) =>
        _idToLangToken.TryGetValue(id, out string? token) ? token : _decoder.GetValueOrDefault(id, UnkToken);

    private protected override bool TryGetVocabId(string token, out int id) =>
        _encoder.TryGetValue(token, out id) || _langTokenToId.TryGetValue(token, out id);

    private protected override int[] BuildInputs(List<int> ids, bool target) =>
        [LanguageId(RequireLanguage(target)), .. ids, EosId];

    private protected override string ConvertTokensToString(List<string> tokens) =>
        SentencePieceText.JoinWithSpecials(tokens, _spm, IsSpecialToken);
}
