namespace GpuTransformer.Tokenizer;

/// <summary>
/// Hugging Face's slow <c>MBartTokenizer</c> (mBART-cc25: a sequence is <c>X &lt;/s&gt; [lang]</c>) and
/// <c>MBart50Tokenizer</c> (mBART-50: <c>[lang] X &lt;/s&gt;</c>) of transformers 4.43: <c>sentencepiece.bpe.model</c>
/// with fairseq's ids (<c>&lt;s&gt;</c>=0, <c>&lt;pad&gt;</c>=1, <c>&lt;/s&gt;</c>=2, <c>&lt;unk&gt;</c>=3, pieces at
/// their SentencePiece id + 1), then the language codes, then <c>&lt;mask&gt;</c>.
/// </summary>
public sealed class MBartTokenizer : PreTrainedTokenizer
{
    private static readonly string[] Cc25Codes = ["ar_AR", "cs_CZ", "de_DE", "en_XX", "es_XX", "et_EE", "fi_FI", "fr_XX", "gu_IN", "hi_IN", "it_IT", "ja_XX", "kk_KZ", "ko_KR", "lt_LT", "lv_LV", "my_MM", "ne_NP", "nl_XX", "ro_RO", "ru_RU", "si_LK", "tr_TR", "vi_VN", "zh_CN"];

    private static readonly string[] Fifty =
        [.. Cc25Codes, "af_ZA", "az_AZ", "bn_IN", "fa_IR", "he_IL", "hr_HR", "id_ID", "ka_GE", "km_KH", "mk_MK", "ml_IN", "mn_MN", "mr_IN", "pl_PL", "ps_AF", "pt_XX", "sv_SE", "sw_KE", "ta_IN", "te_IN", "th_TH", "tl_XX", "uk_UA", "ur_PK", "xh_ZA", "gl_ES", "sl_SI"];

    private const int FairseqOffset = 1;

    private readonly SentencePieceModel _spm;
    private readonly Dictionary<string, int> _fairseqTokensToIds = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _fairseqIdsToTokens = [];
    private readonly string[] _codes;
    private readonly bool _mbart50;

    private MBartTokenizer(string directory, bool mbart50)
        : base(directory)
    {
        var config = TokenizerConfig.Load(directory);
        _spm = SentencePieceModel.Load(Path.Combine(directory, "sentencepiece.bpe.model"));
        _mbart50 = mbart50;
        _codes = mbart50 ? Fifty : Cc25Codes;
        _fairseqTokensToIds["<s>"] = 0;
        _fairseqTokensToIds["<pad>"] = 1;
        _fairseqTokensToIds["</s>"] = 2;
        _fairseqTokensToIds["<unk>"] = 3;
        for (int i = 0; i < _codes.Length; i++)
        {
            _fairseqTokensToIds[_codes[i]] = _spm.PieceCount + i + FairseqOffset;
        }

        _fairseqTokensToIds["<mask>"] = _spm.PieceCount + _codes.Length + FairseqOffset;
        foreach (var (token, id) in _fairseqTokensToIds)
        {
            _fairseqIdsToTokens[id] = token;
        }

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
        InitializeSpecialTokens(config, specials, [.. _codes, .. config.AdditionalSpecialTokens], new Dictionary<int, AddedToken>());
        SourceLanguage = config.GetString("src_lang") ?? "en_XX";
        TargetLanguage = config.GetString("tgt_lang");
        foreach (string? language in (ReadOnlySpan<string?>)[SourceLanguage, TargetLanguage])
        {
            if (language is not null && !_codes.Contains(language))
            {
                throw new TokenizerFormatException(config.ConfigPath, "src_lang/tgt_lang", $"'{language}' is not one of the language codes: {string.Join(", ", _codes)}");
            }
        }
    }

    /// <inheritdoc/>
    public override string TokenizerClass => _mbart50 ? "MBart50Tokenizer" : "MBartTokenizer";

    /// <inheritdoc/>
    public override int VocabSize => _spm.PieceCount + _codes.Length + FairseqOffset + 1;

    /// <inheritdoc/>
    public override IReadOnlyList<string> LanguageCodes => _codes;

    /// <summary>Loads <c>sentencepiece.bpe.model</c> and the optional <c>tokenizer_config.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <param name="mbart50">Whether the folder is an mBART-50 one (<c>MBart50Tokenizer</c>: language code first).</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>sentencepiece.bpe.model</c> is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    public static MBartTokenizer Load(string modelDirectory, bool mbart50 = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new MBartTokenizer(modelDirectory, mbart50);
    }

    private protected override void TokenizeChunk(string chunk, List<string> tokens) => tokens.AddRange(_spm.EncodeAsPieces(chunk));

    private protected override int TokenToIdCore(string token)
    {
        if (_fairseqTokensToIds.TryGetValue(token, out int id))
        {
            return id;
        }

        int spmId = _spm.PieceToId(token);
        return spmId != 0 ? spmId + FairseqOffset : UnkId;
    }

    private protected override string? IdToTokenCore(int id) =>
        _fairseqIdsToTokens.TryGetValue(id, out string? token) ? token
            : (uint)(id - FairseqOffset) < (uint)_spm.PieceCount ? _spm.IdToPiece(id - FairseqOffset) : null;

    private protected override bool TryGetVocabId(string token, out int id)
    {
        if (_fairseqTokensToIds.TryGetValue(token, out id))
        {
            return true;
        }

        if (_spm.TryGetId(token, out int spmId) && spmId > 0)
        {
            id = spmId + FairseqOffset;
            return true;
        }

        return false;
    }

    private protected override int[] BuildInputs(List<int> ids, bool target)
    {
        int language = LanguageId(RequireLanguage(target));
        return _mbart50 ? [language, .. ids, EosId] : [.. ids, EosId, language];
    }

    private protected override string ConvertTokensToString(List<string> tokens) => SentencePieceText.Concatenate(tokens);
}
