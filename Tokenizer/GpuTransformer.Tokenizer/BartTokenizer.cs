namespace GpuTransformer.Tokenizer;

/// <summary>
/// Hugging Face's slow <c>BartTokenizer</c> (transformers 4.43; the same byte-level BPE as RoBERTa/GPT-2):
/// <c>vocab.json</c> + <c>merges.txt</c>, a sequence becomes <c>&lt;s&gt; X &lt;/s&gt;</c>, and decoding maps the
/// byte-level symbols back to UTF-8.
/// </summary>
public sealed class BartTokenizer : PreTrainedTokenizer
{
    private readonly Dictionary<string, int> _encoder;
    private readonly Dictionary<int, string> _decoder = [];
    private readonly ByteLevelBpe _bpe;
    private readonly bool _addPrefixSpace;
    private readonly int _bosId;
    private readonly int _sepId;

    private BartTokenizer(string directory)
        : base(directory)
    {
        var config = TokenizerConfig.Load(directory);
        string vocabPath = Path.Combine(directory, "vocab.json");
        string mergesPath = Path.Combine(directory, "merges.txt");
        _encoder = TokenizerJson.ReadVocab(vocabPath);
        foreach (var (token, id) in _encoder)
        {
            _decoder[id] = token;
        }

        _bpe = new ByteLevelBpe(mergesPath);
        _addPrefixSpace = config.GetBool("add_prefix_space", false);
        var specials = new Dictionary<string, AddedToken?>
        {
            ["bos_token"] = config.SpecialToken("bos_token", "<s>"),
            ["eos_token"] = config.SpecialToken("eos_token", "</s>"),
            ["unk_token"] = config.SpecialToken("unk_token", "<unk>"),
            ["sep_token"] = config.SpecialToken("sep_token", "</s>"),
            ["pad_token"] = config.SpecialToken("pad_token", "<pad>"),
            ["cls_token"] = config.SpecialToken("cls_token", "<s>"),
            ["mask_token"] = config.SpecialToken("mask_token", "<mask>", lstrip: true),
        };
        string unk = specials["unk_token"]?.Content ?? "<unk>";
        if (!_encoder.ContainsKey(unk))
        {
            throw new TokenizerFormatException(vocabPath, unk, $"the unknown token '{unk}' must be in the vocabulary");
        }

        InitializeSpecialTokens(config, specials, config.AdditionalSpecialTokens, new Dictionary<int, AddedToken>());
        _bosId = ConvertTokenToId(specials["cls_token"]?.Content ?? "<s>");
        _sepId = ConvertTokenToId(specials["sep_token"]?.Content ?? "</s>");
    }

    /// <inheritdoc/>
    public override string TokenizerClass => "BartTokenizer";

    /// <inheritdoc/>
    public override int VocabSize => _encoder.Count;

    /// <summary>Loads <c>vocab.json</c>, <c>merges.txt</c> and the optional <c>tokenizer_config.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>vocab.json</c> or <c>merges.txt</c> is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    public static BartTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new BartTokenizer(modelDirectory);
    }

    private protected override string PrepareForTokenization(string text) =>
        _addPrefixSpace && text.Length > 0 && !PythonText.IsSpace(text[0]) ? " " + text : text;

    private protected override void TokenizeChunk(string chunk, List<string> tokens) => _bpe.Tokenize(chunk, tokens);

    private protected override int TokenToIdCore(string token) =>
        _encoder.TryGetValue(token, out int id) ? id : _encoder[UnkToken];

    private protected override string? IdToTokenCore(int id) => _decoder.GetValueOrDefault(id);

    private protected override string ConvertTokensToString(List<string> tokens) => ByteLevelBpe.SymbolsToText(string.Concat(tokens));

    private protected override int[] BuildInputs(List<int> ids, bool target) => [_bosId, .. ids, _sepId];

    private protected override bool TryGetVocabId(string token, out int id) => _encoder.TryGetValue(token, out id);
}
