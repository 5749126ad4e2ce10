namespace GpuTransformer.Tokenizer;

/// <summary>
/// What the Hugging Face slow tokenizers (transformers 4.43's <c>PreTrainedTokenizer</c>) share: added tokens kept
/// whole in the text (with their <c>lstrip</c>/<c>rstrip</c> rules), special tokens, truncation that keeps the
/// special tokens, padding, and <c>decode</c> with its handling of special and added tokens and
/// <c>clean_up_tokenization_spaces</c>. Each family supplies its segmentation, its token ↔ id mapping, how
/// tokens are joined back into text, and the special tokens it wraps a sequence in.
/// </summary>
public abstract class PreTrainedTokenizer : ISeq2SeqTokenizer
{
    private readonly Dictionary<string, int> _addedEncoder = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AddedToken> _addedDecoder = [];
    private readonly Dictionary<char, string[]> _splitTokensByFirstChar = [];
    private readonly HashSet<string> _allSpecialTokens = new(StringComparer.Ordinal);
    private readonly HashSet<int> _allSpecialIds = [];
    private readonly HashSet<string> _legacyAddedTokens = new(StringComparer.Ordinal);
    private readonly List<string> _allSpecialTokenList = [];
    private readonly List<string> _additionalSpecialTokens = [];

    private protected PreTrainedTokenizer(string directory)
    {
        ModelDirectory = directory;
    }

    /// <summary>The model folder the tokenizer was loaded from.</summary>
    public string ModelDirectory { get; }

    /// <inheritdoc/>
    public abstract string TokenizerClass { get; }

    /// <inheritdoc/>
    public int PadId { get; private set; }

    /// <inheritdoc/>
    public int EosId { get; private set; }

    /// <inheritdoc/>
    public int UnkId { get; private set; }

    /// <inheritdoc/>
    public int Count { get; private set; }

    /// <summary>Hugging Face's <c>vocab_size</c>: the ids of the base vocabulary, without added tokens beyond it.</summary>
    public abstract int VocabSize { get; }

    /// <inheritdoc/>
    public int ModelMaxLength { get; private set; }

    /// <summary>Whether decoding removes spaces before punctuation (<c>clean_up_tokenization_spaces</c>).</summary>
    public bool CleanUpTokenizationSpaces { get; private set; }

    /// <summary>The ids Hugging Face calls <c>all_special_ids</c>, which <c>skip_special_tokens</c> drops.</summary>
    public IReadOnlyCollection<int> AllSpecialIds => _allSpecialIds;

    /// <inheritdoc/>
    public virtual IReadOnlyList<string> LanguageCodes => [];

    /// <inheritdoc/>
    public string? SourceLanguage { get; private protected set; }

    /// <inheritdoc/>
    public string? TargetLanguage { get; private protected set; }

    private protected string UnkToken { get; private set; } = "<unk>";

    private protected string EosToken { get; private set; } = "</s>";

    /// <inheritdoc/>
    public ISeq2SeqTokenizer WithLanguages(string? sourceLanguage, string? targetLanguage)
    {
        if (sourceLanguage is null && targetLanguage is null)
        {
            return this;
        }

        if (LanguageCodes.Count == 0)
        {
            throw new ArgumentException($"{TokenizerClass} of '{ModelDirectory}' has no language codes; do not pass a source or target language.", sourceLanguage is null ? nameof(targetLanguage) : nameof(sourceLanguage));
        }

        var copy = (PreTrainedTokenizer)MemberwiseClone();
        if (sourceLanguage is not null)
        {
            copy.SourceLanguage = NormalizeLanguage(sourceLanguage, nameof(sourceLanguage));
        }

        if (targetLanguage is not null)
        {
            copy.TargetLanguage = NormalizeLanguage(targetLanguage, nameof(targetLanguage));
        }

        return copy;
    }

    /// <inheritdoc/>
    public int GetLanguageId(string language)
    {
        ArgumentNullException.ThrowIfNull(language);
        return ConvertTokenToId(LanguageToken(NormalizeLanguage(language, nameof(language))));
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Utf8Util.ValidateUtf16(text, nameof(text));
        return TokenizeText(text);
    }

    /// <summary>HF's <c>PreTrainedTokenizer.tokenize</c> on valid text; families that override <c>tokenize</c> wrap it.</summary>
    private protected virtual IReadOnlyList<string> TokenizeText(string text)
    {
        text = PrepareForTokenization(text);
        var chunks = SplitOnAddedTokens(text);
        var tokens = new List<string>();
        foreach (var (chunk, isAdded) in chunks)
        {
            if (chunk.Length == 0)
            {
                continue;
            }

            if (isAdded)
            {
                tokens.Add(chunk);
            }
            else
            {
                TokenizeChunk(chunk, tokens);
            }
        }

        return tokens;
    }

    /// <inheritdoc/>
    public int[] EncodeSource(string text) => Encode(text, target: false, int.MaxValue, out _);

    /// <inheritdoc/>
    public int[] EncodeSource(string text, int maxLength, out bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Encode(text, target: false, maxLength, out truncated);
    }

    /// <inheritdoc/>
    public int[] EncodeTarget(string text) => Encode(text, target: true, int.MaxValue, out _);

    /// <inheritdoc/>
    public int[] EncodeTarget(string text, int maxLength, out bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Encode(text, target: true, maxLength, out truncated);
    }

    /// <inheritdoc/>
    public EncodedBatch EncodeSourceBatch(IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var rows = new int[texts.Count][];
        var truncated = new bool[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts));
            try
            {
                rows[i] = Encode(text, target: false, maxLength, out truncated[i]);
            }
            catch (ArgumentException ex) when (ex.ParamName == "text")
            {
                throw new ArgumentException($"Text {i} of the batch: {ex.Message}", nameof(texts), ex);
            }
        }

        return Pad(rows, truncated, PadId);
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (skipSpecialTokens && _allSpecialIds.Contains(id))
            {
                continue;
            }

            tokens.Add(ConvertIdToToken(id));
        }

        // Added tokens that are not special ("legacy" added tokens) are decoded on their own and joined by spaces,
        // so byte-level and SentencePiece joining never sees them.
        var subTexts = new List<string>();
        var current = new List<string>();
        foreach (string token in tokens)
        {
            if (_legacyAddedTokens.Contains(token))
            {
                if (current.Count > 0)
                {
                    string text = ConvertTokensToString(current);
                    if (text.Length > 0)
                    {
                        subTexts.Add(text);
                    }

                    current = [];
                }

                subTexts.Add(token);
            }
            else
            {
                current.Add(token);
            }
        }

        if (current.Count > 0)
        {
            subTexts.Add(ConvertTokensToString(current));
        }

        string result = string.Join(' ', subTexts);
        return CleanUpTokenizationSpaces ? MarianTokenizer.CleanUpTokenization(result) : result;
    }

    /// <summary>The token of an id, as <c>convert_ids_to_tokens</c>: added tokens first, then the family's vocabulary.</summary>
    /// <param name="id">A token id.</param>
    /// <returns>The token; the unknown token for an id the tokenizer does not know.</returns>
    public string ConvertIdToToken(int id) =>
        _addedDecoder.TryGetValue(id, out AddedToken? added) ? added.Content : IdToTokenCore(id) ?? UnkToken;

    /// <summary>The id of a token, as <c>convert_tokens_to_ids</c>: added tokens first, then the family's vocabulary.</summary>
    /// <param name="token">A token.</param>
    /// <returns>Its id; the unknown id for a token the tokenizer does not know.</returns>
    public int ConvertTokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _addedEncoder.TryGetValue(token, out int id) ? id : TokenToIdCore(token);
    }

    /// <summary>Whether a token is one of Hugging Face's <c>all_special_tokens</c>.</summary>
    private protected bool IsSpecialToken(string token) => _allSpecialTokens.Contains(token);

    private protected IReadOnlyList<string> AdditionalSpecialTokens => _additionalSpecialTokens;

    /// <summary>Family segmentation of a text chunk without added tokens (HF's <c>_tokenize</c>).</summary>
    private protected abstract void TokenizeChunk(string chunk, List<string> tokens);

    /// <summary>HF's <c>_convert_token_to_id</c>.</summary>
    private protected abstract int TokenToIdCore(string token);

    /// <summary>HF's <c>_convert_id_to_token</c>; null when the id is outside the vocabulary.</summary>
    private protected abstract string? IdToTokenCore(int id);

    /// <summary>HF's <c>convert_tokens_to_string</c>.</summary>
    private protected abstract string ConvertTokensToString(List<string> tokens);

    /// <summary>HF's <c>build_inputs_with_special_tokens</c> in input (source) or target mode.</summary>
    private protected abstract int[] BuildInputs(List<int> ids, bool target);

    /// <summary>HF's <c>prepare_for_tokenization</c>.</summary>
    private protected virtual string PrepareForTokenization(string text) => text;

    /// <summary>The vocabulary id of a token for registering a special token the config did not list, or false.</summary>
    private protected abstract bool TryGetVocabId(string token, out int id);

    /// <summary>The token a language code stands for (M2M100: <c>en</c> → <c>__en__</c>).</summary>
    private protected virtual string LanguageToken(string language) => language;

    /// <summary>
    /// Registers the special and added tokens as <c>PreTrainedTokenizer.__init__</c> does: the config's
    /// <c>added_tokens_decoder</c> (or the family's defaults), then every special token not yet added, with its
    /// vocabulary id or a new id.
    /// </summary>
    private protected void InitializeSpecialTokens(TokenizerConfig config, IReadOnlyDictionary<string, AddedToken?> specials, IEnumerable<string> additional, IReadOnlyDictionary<int, AddedToken> defaultAddedTokens)
    {
        foreach (var (id, token) in (IEnumerable<KeyValuePair<int, AddedToken>>?)config.AddedTokensDecoder ?? defaultAddedTokens)
        {
            _addedDecoder[id] = token;
            _addedEncoder[token.Content] = id;
        }

        foreach (string attribute in TokenizerConfig.SpecialTokenAttributes)
        {
            if (specials.TryGetValue(attribute, out AddedToken? token) && token is not null)
            {
                AddSpecial(token);
            }
        }

        foreach (string token in additional)
        {
            if (!_additionalSpecialTokens.Contains(token))
            {
                _additionalSpecialTokens.Add(token);
            }
        }

        foreach (string token in _additionalSpecialTokens)
        {
            AddSpecial(new AddedToken(token));
        }

        Count = Math.Max(VocabSize, _addedDecoder.Count == 0 ? 0 : _addedDecoder.Keys.Max() + 1);
        foreach (string token in _allSpecialTokenList)
        {
            _allSpecialIds.Add(ConvertTokenToId(token));
        }

        // transformers: (added tokens - all_special_tokens) | {additional special tokens with id >= vocab_size}.
        foreach (string token in _addedEncoder.Keys)
        {
            if (!_allSpecialTokens.Contains(token))
            {
                _legacyAddedTokens.Add(token);
            }
        }

        foreach (string token in _additionalSpecialTokens)
        {
            if (ConvertTokenToId(token) >= VocabSize)
            {
                _legacyAddedTokens.Add(token);
            }
        }

        foreach (var group in _addedEncoder.Keys.Where(t => t.Length > 0).GroupBy(t => t[0]))
        {
            _splitTokensByFirstChar[group.Key] = [.. group.OrderByDescending(t => t.Length)];
        }

        UnkToken = specials.TryGetValue("unk_token", out AddedToken? unk) && unk is not null ? unk.Content : "<unk>";
        EosToken = specials.TryGetValue("eos_token", out AddedToken? eos) && eos is not null ? eos.Content : "</s>";
        UnkId = ConvertTokenToId(UnkToken);
        EosId = ConvertTokenToId(EosToken);
        PadId = specials.TryGetValue("pad_token", out AddedToken? pad) && pad is not null ? ConvertTokenToId(pad.Content) : EosId;
        ModelMaxLength = config.ModelMaxLength;
        CleanUpTokenizationSpaces = config.GetBool("clean_up_tokenization_spaces", true);

        void AddSpecial(AddedToken token)
        {
            if (_allSpecialTokens.Add(token.Content))
            {
                _allSpecialTokenList.Add(token.Content);
            }

            if (!_addedEncoder.ContainsKey(token.Content))
            {
                int id = TryGetVocabId(token.Content, out int vocabId) ? vocabId : Math.Max(VocabSize, _addedDecoder.Count == 0 ? 0 : _addedDecoder.Keys.Max() + 1);
                _addedDecoder[id] = token;
                _addedEncoder[token.Content] = id;
            }
        }
    }

    private protected string NormalizeLanguage(string language, string paramName)
    {
        ArgumentNullException.ThrowIfNull(language, paramName);
        if (LanguageCodes.Contains(language, StringComparer.Ordinal))
        {
            return language;
        }

        // Accept the token spelling too (M2M100's "__de__" for "de").
        foreach (string code in LanguageCodes)
        {
            if (LanguageToken(code) == language)
            {
                return code;
            }
        }

        throw new ArgumentException(
            $"Unknown language code '{language}' for {TokenizerClass} of '{ModelDirectory}'. Valid codes: {string.Join(", ", LanguageCodes)}.", paramName);
    }

    private protected int LanguageId(string language) => ConvertTokenToId(LanguageToken(language));

    private protected string RequireLanguage(bool target)
    {
        string? language = target ? TargetLanguage : SourceLanguage;
        return language ?? throw new InvalidOperationException(
            $"{TokenizerClass} of '{ModelDirectory}' needs a {(target ? "target" : "source")} language; choose one with WithLanguages (valid codes: {string.Join(", ", LanguageCodes)}).");
    }

    internal static EncodedBatch Pad(int[][] rows, bool[] truncated, int padId)
    {
        int longest = rows.Length == 0 ? 0 : rows.Max(r => r.Length);
        var ids = new int[rows.Length * longest];
        var mask = new int[rows.Length * longest];
        var lengths = new int[rows.Length];
        Array.Fill(ids, padId);
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i].CopyTo(ids, i * longest);
            mask.AsSpan(i * longest, rows[i].Length).Fill(1);
            lengths[i] = rows[i].Length;
        }

        return new EncodedBatch(ids, mask, lengths, truncated, rows.Length, longest);
    }

    private int[] Encode(string text, bool target, int maxLength, out bool truncated)
    {
        IReadOnlyList<string> tokens = Tokenize(text);
        var ids = new List<int>(tokens.Count + 2);
        foreach (string token in tokens)
        {
            ids.Add(ConvertTokenToId(token));
        }

        // HF truncates the sequence to max_length minus the special tokens that build_inputs adds, from the end.
        int special = BuildInputs([], target).Length;
        int keep = Math.Max(0, maxLength - special);
        truncated = ids.Count > keep && maxLength != int.MaxValue;
        if (truncated)
        {
            ids.RemoveRange(keep, ids.Count - keep);
        }

        return BuildInputs(ids, target);
    }

    /// <summary>HF's <c>tokens_trie.split</c> plus the added tokens' <c>lstrip</c>/<c>rstrip</c>/<c>single_word</c>.</summary>
    private protected List<(string Text, bool IsAdded)> SplitOnAddedTokens(string text)
    {
        var parts = new List<(string Text, bool IsAdded)>();
        int chunkStart = 0;
        int pos = 0;
        while (pos < text.Length)
        {
            string? match = null;
            if (_splitTokensByFirstChar.TryGetValue(text[pos], out string[]? candidates))
            {
                foreach (string candidate in candidates)
                {
                    if (pos + candidate.Length <= text.Length && string.CompareOrdinal(text, pos, candidate, 0, candidate.Length) == 0)
                    {
                        match = candidate;
                        break;
                    }
                }
            }

            if (match is null)
            {
                pos++;
                continue;
            }

            if (pos > chunkStart)
            {
                parts.Add((text[chunkStart..pos], false));
            }

            parts.Add((match, true));
            pos += match.Length;
            chunkStart = pos;
        }

        if (chunkStart < text.Length)
        {
            parts.Add((text[chunkStart..], false));
        }

        for (int i = 0; i < parts.Count; i++)
        {
            if (!parts[i].IsAdded)
            {
                continue;
            }

            AddedToken token = _addedDecoder[_addedEncoder[parts[i].Text]];
            if (token.RStrip && i + 1 < parts.Count && parts[i + 1].Text.Length > 0)
            {
                parts[i + 1] = (PythonText.LStrip(parts[i + 1].Text), parts[i + 1].IsAdded);
            }

            if (token.LStrip && i > 0 && parts[i - 1].Text.Length > 0)
            {
                parts[i - 1] = (PythonText.RStrip(parts[i - 1].Text), parts[i - 1].IsAdded);
            }

            if (token.SingleWord && i > 0 && parts[i - 1].Text.Length > 0 && parts[i - 1].Text[^1] != ' ')
            {
                parts[i - 1] = (parts[i - 1].Text + parts[i].Text, parts[i - 1].IsAdded);
                parts[i] = (string.Empty, true);
            }
            else if (token.SingleWord && i + 1 < parts.Count && parts[i + 1].Text.Length > 0 && parts[i + 1].Text[0] != ' ')
            {
                parts[i + 1] = (parts[i].Text + parts[i + 1].Text, parts[i + 1].IsAdded);
                parts[i] = (string.Empty, true);
            }
        }

        return parts;
    }
}
