namespace GpuTransformer.Tokenizer;

/// <summary>
/// Hugging Face's slow <c>PegasusTokenizer</c> (transformers 4.43): <c>spiece.model</c> with its pieces moved up by
/// <c>offset</c> (103) to make room for <c>&lt;pad&gt;</c>=0, <c>&lt;/s&gt;</c>=1, <c>&lt;mask_1&gt;</c>=2,
/// <c>&lt;mask_2&gt;</c>=3 and <c>&lt;unk_2&gt;</c>..<c>&lt;unk_102&gt;</c>; a sequence is <c>X &lt;/s&gt;</c>.
/// </summary>
public sealed class PegasusTokenizer : PreTrainedTokenizer
{
    private readonly SentencePieceModel _spm;
    private readonly int _offset;

    private PegasusTokenizer(string directory)
        : base(directory)
    {
        var config = TokenizerConfig.Load(directory);
        _spm = SentencePieceModel.Load(Path.Combine(directory, "spiece.model"));
        _offset = config.GetInt("offset", 103);
        string? maskSent = config.GetString("mask_token_sent") ?? "<mask_1>";
        var specials = new Dictionary<string, AddedToken?>
        {
            ["eos_token"] = config.SpecialToken("eos_token", "</s>"),
            ["unk_token"] = config.SpecialToken("unk_token", "<unk>"),
            ["pad_token"] = config.SpecialToken("pad_token", "<pad>"),
            ["mask_token"] = config.SpecialToken("mask_token", "<mask_2>"),
        };

        var additional = new List<string>(config.AdditionalSpecialTokens);
        if (additional.Count == 0)
        {
            additional.Add(maskSent);
            additional.AddRange(Enumerable.Range(2, _offset - 2).Select(i => $"<unk_{i}>"));
        }
        else
        {
            if (!additional.Contains(maskSent))
            {
                additional.Insert(0, maskSent);
            }

            for (int i = additional.Count; i < _offset - 1; i++)
            {
                additional.Add($"<unk_{i}>");
            }
        }

        var defaults = new Dictionary<int, AddedToken>
        {
            [0] = new(specials["pad_token"]!.Content),
            [1] = new(specials["eos_token"]!.Content),
            [2] = new(maskSent),
            [3] = new(specials["mask_token"]!.Content),
        };
        for (int i = 2; i < _offset; i++)
        {
            defaults[defaults.Count] = new AddedToken($"<unk_{i}>");
        }

        // PegasusTokenizer lays its own added tokens over the config's.
        var merged = new SortedDictionary<int, AddedToken>(config.AddedTokensDecoder ?? new SortedDictionary<int, AddedToken>());
        foreach (var (id, token) in defaults)
        {
            merged[id] = token;
        }

        InitializeSpecialTokens(config, specials, additional, merged);
    }

    /// <inheritdoc/>
    public override string TokenizerClass => "PegasusTokenizer";

    /// <inheritdoc/>
    public override int VocabSize => _spm.PieceCount + _offset;

    /// <summary>Loads <c>spiece.model</c> and the optional <c>tokenizer_config.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>spiece.model</c> is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    public static PegasusTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new PegasusTokenizer(modelDirectory);
    }

    private protected override void TokenizeChunk(string chunk, List<string> tokens) => tokens.AddRange(_spm.EncodeAsPieces(chunk));

    private protected override int TokenToIdCore(string token) => _spm.PieceToId(token) + _offset;

    private protected override string? IdToTokenCore(int id)
    {
        int spmId = id < _offset ? id : id - _offset;
        return (uint)spmId < (uint)_spm.PieceCount ? _spm.IdToPiece(spmId) : null;
    }

    private protected override bool TryGetVocabId(string token, out int id)
    {
        id = 0;
        if (_spm.TryGetId(token, out int spmId))
        {
            id = spmId + _offset;
            return true;
        }

        return false;
    }

    private protected override int[] BuildInputs(List<int> ids, bool target) => [.. ids, EosId];

    private protected override string ConvertTokensToString(List<string> tokens) =>
        SentencePieceText.JoinWithSpecials(tokens, _spm, IsSpecialToken);
}
