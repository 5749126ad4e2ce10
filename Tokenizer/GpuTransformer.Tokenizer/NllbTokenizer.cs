namespace GpuTransformer.Tokenizer;

/// <summary>
/// Hugging Face's slow <c>NllbTokenizer</c> (transformers 4.43): <c>sentencepiece.bpe.model</c> with fairseq's ids
/// (<c>&lt;s&gt;</c>=0, <c>&lt;pad&gt;</c>=1, <c>&lt;/s&gt;</c>=2, <c>&lt;unk&gt;</c>=3, pieces at their SentencePiece
/// id + 1), the language codes of <c>additional_special_tokens</c> after them; a sequence is
/// <c>[lang] X &lt;/s&gt;</c>, or <c>X &lt;/s&gt; [lang]</c> with <c>legacy_behaviour: true</c>.
/// </summary>
public sealed class NllbTokenizer : PreTrainedTokenizer
{
    private const int FairseqOffset = 1;

    private readonly SentencePieceModel _spm;
    private readonly string[] _codes;
    private readonly bool _legacyBehaviour;

    private NllbTokenizer(string directory)
        : base(directory)
    {
        var config = TokenizerConfig.Load(directory);
        _spm = SentencePieceModel.Load(Path.Combine(directory, "sentencepiece.bpe.model"));
        _legacyBehaviour = config.GetBool("legacy_behaviour", false);
        if (config.AdditionalSpecialTokens.Count == 0)
        {
            throw new TokenizerFormatException(config.ConfigPath, "additional_special_tokens", "NLLB needs its language codes listed (tokenizer_config.json or special_tokens_map.json)");
        }

        _codes = [.. config.AdditionalSpecialTokens];
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
        var defaults = new Dictionary<int, AddedToken>
        {
            [0] = specials["bos_token"]!,
            [1] = specials["pad_token"]!,
            [2] = specials["eos_token"]!,
            [3] = specials["unk_token"]!,
        };
        InitializeSpecialTokens(config, specials, _codes, defaults);
        SourceLanguage = config.GetString("src_lang") ?? "eng_Latn";
        TargetLanguage = config.GetString("tgt_lang");
    }

    /// <inheritdoc/>
    public override string TokenizerClass => "NllbTokenizer";

    /// <inheritdoc/>
    public override int VocabSize => _spm.PieceCount + FairseqOffset;

    /// <inheritdoc/>
    public override IReadOnlyList<string> LanguageCodes => _codes;

    /// <summary>Loads <c>sentencepiece.bpe.model</c> and <c>tokenizer_config.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>sentencepiece.bpe.model</c> is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt, or the language codes are not listed.</exception>
    public static NllbTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new NllbTokenizer(modelDirectory);
    }

    private protected override void TokenizeChunk(string chunk, List<string> tokens) => tokens.AddRange(_spm.EncodeAsPieces(chunk));

    private protected override int TokenToIdCore(string token)
    {
        int spmId = _spm.PieceToId(token);
        return spmId != 0 ? spmId + FairseqOffset : UnkId;
    }

    private protected override string? IdToTokenCore(int id) =>
        (uint)(id - FairseqOffset) < (uint)_spm.PieceCount ? _spm.IdToPiece(id - FairseqOffset) : null;

    private protected override bool TryGetVocabId(string token, out int id)
    {
        id = 0;
        if (_spm.TryGetId(token, out int spmId) && spmId >= 3)
        {
            id = spmId + FairseqOffset;
            return true;
        }

        return false;
    }

    private protected override int[] BuildInputs(List<int> ids, bool target)
    {
        int language = LanguageId(RequireLanguage(target));
        return _legacyBehaviour ? [.. ids, EosId, language] : [language, .. ids, EosId];
    }

    private protected override string ConvertTokensToString(List<string> tokens) => SentencePieceText.Concatenate(tokens);
}
