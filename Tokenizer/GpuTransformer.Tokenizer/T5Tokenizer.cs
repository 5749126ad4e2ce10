namespace GpuTransformer.Tokenizer;

/// <summary>
/// Hugging Face's slow <c>T5Tokenizer</c> (transformers 4.43; <c>legacy</c> true, as T5 and Flan-T5 checkpoints
/// load, or false as newer configs ask): <c>spiece.model</c>, the sentinels <c>&lt;extra_id_0&gt;</c>..<c>&lt;extra_id_N&gt;</c> counted down from
/// the end of the vocabulary and kept whole in the text, <c>&lt;/s&gt;</c> appended.
/// </summary>
public sealed class T5Tokenizer : PreTrainedTokenizer
{
    private readonly SentencePieceModel _spm;
    private readonly bool _addPrefixSpace;
    private readonly bool _legacy;
    private readonly int _unkTokenLength;

    private T5Tokenizer(string directory)
        : base(directory)
    {
        var config = TokenizerConfig.Load(directory);
        _legacy = config.GetBool("legacy", true);
        string spmPath = Path.Combine(directory, "spiece.model");
        _spm = _legacy ? SentencePieceModel.Load(spmPath) : SentencePieceModel.LoadWithoutDummyPrefix(spmPath);

        _addPrefixSpace = config.GetBool("add_prefix_space", true);
        int extraIds = config.GetInt("extra_ids", 100);
        var additional = new List<string>(config.AdditionalSpecialTokens);
        var extraTokens = additional.Where(t => t.Contains("<extra_id_", StringComparison.Ordinal)).ToList();
        if (extraTokens.Count == 0)
        {
            extraTokens = [.. Enumerable.Range(0, extraIds).Select(i => $"<extra_id_{i}>")];
            additional.AddRange(extraTokens);
        }

        var defaults = new Dictionary<int, AddedToken>();
        for (int i = 0; i < extraTokens.Count; i++)
        {
            defaults[_spm.PieceCount - 1 + extraIds - i] = new AddedToken($"<extra_id_{i}>", LStrip: true, RStrip: true);
        }

        var specials = new Dictionary<string, AddedToken?>
        {
            ["eos_token"] = config.SpecialToken("eos_token", "</s>"),
            ["unk_token"] = config.SpecialToken("unk_token", "<unk>"),
            ["pad_token"] = config.SpecialToken("pad_token", "<pad>"),
        };
        InitializeSpecialTokens(config, specials, additional, defaults);
        _unkTokenLength = _spm.EncodeAsPieces(UnkToken).Count;
    }

    /// <inheritdoc/>
    public override string TokenizerClass => "T5Tokenizer";

    /// <inheritdoc/>
    public override int VocabSize => _spm.PieceCount;

    /// <summary>The SentencePiece model (<c>spiece.model</c>).</summary>
    public SentencePieceModel Model => _spm;

    /// <summary>Loads <c>spiece.model</c> and the optional <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>spiece.model</c> is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    public static T5Tokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new T5Tokenizer(modelDirectory);
    }

    /// <summary>
    /// The non-legacy behaviour (<c>T5Tokenizer.tokenize</c>): U+2581 in the text counts as a space, one U+2581 is put
    /// in front instead of SentencePiece's dummy prefix, and a lone leading U+2581 before a special token is dropped.
    /// </summary>
    private protected override IReadOnlyList<string> TokenizeText(string text)
    {
        if (_legacy || text.Length == 0)
        {
            return base.TokenizeText(text);
        }

        text = text.Replace('\u2581', ' ');
        if (_addPrefixSpace)
        {
            text = "\u2581" + text;
        }

        var tokens = base.TokenizeText(text);
        return tokens.Count > 1 && tokens[0] == "\u2581" && IsSpecialToken(tokens[1]) ? tokens.Skip(1).ToList() : tokens;
    }

    private protected override void TokenizeChunk(string chunk, List<string> tokens)
    {
        if (_legacy || !(chunk.StartsWith('\u2581') || chunk.StartsWith(' ')))
        {
            tokens.AddRange(_spm.EncodeAsPieces(chunk));
            return;
        }

        // Without the dummy prefix SentencePiece would treat a leading U+2581 as the start of the text; HF encodes
        // the unknown token's text in front and cuts its pieces off again.
        var pieces = _spm.EncodeAsPieces(UnkToken + chunk);
        tokens.AddRange(pieces.Count >= _unkTokenLength ? pieces.Skip(_unkTokenLength) : pieces);
    }

    private protected override int TokenToIdCore(string token) => _spm.PieceToId(token);

    private protected override string? IdToTokenCore(int id) => (uint)id < (uint)_spm.PieceCount ? _spm.IdToPiece(id) : null;

    private protected override bool TryGetVocabId(string token, out int id) => _spm.TryGetId(token, out id);

    private protected override int[] BuildInputs(List<int> ids, bool target) =>
        ids.Count > 0 && ids[^1] == EosId ? [.. ids] : [.. ids, EosId];

    private protected override string ConvertTokensToString(List<string> tokens)
    {
        // T5Tokenizer.convert_tokens_to_string: the first token loses its U+2581, special tokens are written
        // verbatim with a space before a run of them, and the result is stripped.
        if (tokens[0].StartsWith('\u2581') && _addPrefixSpace)
        {
            tokens[0] = tokens[0][1..];
        }

        var current = new List<string>();
        var output = new System.Text.StringBuilder();
        bool prevIsSpecial = false;
        foreach (string token in tokens)
        {
            if (IsSpecialToken(token))
            {
                if (!prevIsSpecial)
                {
                    output.Append(' ');
                }

                output.Append(_spm.DecodePieces(current)).Append(token);
                prevIsSpecial = true;
                current.Clear();
            }
            else
            {
                current.Add(token);
                prevIsSpecial = false;
            }
        }

        output.Append(_spm.DecodePieces(current));
        return PythonText.Strip(output.ToString());
    }
}
