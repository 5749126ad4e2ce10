using System.Globalization;
using System.Text;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// A SentencePiece model (<c>.model</c> / <c>.spm</c>) that encodes and decodes exactly as the sentencepiece
/// library (0.1.9x) does: same normalization, same unigram Viterbi segmentation (including its float arithmetic
/// and tie-breaking), same merging of unknown characters, byte fallback and detokenization.
/// </summary>
public sealed class SentencePieceModel
{
    private const float UnknownPenalty = 10.0f;

    private readonly SentencePieceModelProto _proto;
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly SentencePiecePieceType[] _types;
    private readonly Dictionary<string, int> _pieceIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _reservedIds = new(StringComparer.Ordinal);
    private readonly PieceTrie _trie = new();
    private readonly PieceTrie _userDefined = new();
    private readonly SentencePieceNormalizer _normalizer;
    private readonly SentencePieceNormalizer? _denormalizer;
    private readonly int[] _byteIds = new int[256];
    private readonly float _minScore = float.MaxValue;

    // sentencepiece starts max_score_ at FLT_MIN (the smallest positive normal), not at -FLT_MAX; user-defined
    // piece scores are derived from it, so the same quirk is kept.
    private readonly float _maxScore = 1.17549435e-38f;
    private readonly byte[] _unkSurface;

    private SentencePieceModel(SentencePieceModelProto proto, string source, float? minScore = null)
    {
        _proto = proto;
        Source = source;
        if (!proto.HasTrainerSpec)
        {
            throw new TokenizerFormatException(source, "ModelProto.trainer_spec", "missing (file truncated or not a SentencePiece model)");
        }

        if (!proto.HasNormalizerSpec)
        {
            throw new TokenizerFormatException(source, "ModelProto.normalizer_spec", "missing (file truncated or not a SentencePiece model)");
        }

        int count = proto.Pieces.Count;
        if (count == 0)
        {
            throw new TokenizerFormatException(source, "ModelProto.pieces", "the model has no pieces");
        }

        _pieces = new string[count];
        _scores = new float[count];
        _types = new SentencePiecePieceType[count];
        var userDefined = _userDefined;
        int unkId = -1;
        Array.Fill(_byteIds, -1);
        for (int i = 0; i < count; i++)
        {
            var (piece, score, type) = proto.Pieces[i];
            _pieces[i] = piece;
            _scores[i] = score;
            _types[i] = type;
            bool isNormal = type is SentencePiecePieceType.Normal or SentencePiecePieceType.UserDefined or SentencePiecePieceType.Unused;
            if (!(isNormal ? _pieceIds : _reservedIds).TryAdd(piece, i))
            {
                throw new TokenizerFormatException(source, $"ModelProto.pieces[{i}].piece", $"piece '{piece}' is already defined");
            }

            byte[] utf8 = Encoding.UTF8.GetBytes(piece);
            if (isNormal)
            {
                _trie.Add(utf8, i);
            }

            switch (type)
            {
                case SentencePiecePieceType.UserDefined:
                    userDefined.Add(utf8, i);
                    break;
                case SentencePiecePieceType.Unknown:
                    if (unkId >= 0)
                    {
                        throw new TokenizerFormatException(source, $"ModelProto.pieces[{i}].type", "unk is already defined");
                    }

                    unkId = i;
                    break;
                case SentencePiecePieceType.Byte:
                    int b = PieceToByte(piece);
                    if (!proto.ByteFallback)
                    {
                        throw new TokenizerFormatException(source, $"ModelProto.pieces[{i}].type", $"byte piece {piece} is found although byte_fallback is false");
                    }

                    if (b < 0)
                    {
                        throw new TokenizerFormatException(source, $"ModelProto.pieces[{i}].piece", $"byte piece {piece} is invalid");
                    }

                    _byteIds[b] = i;
                    break;
                case SentencePiecePieceType.Normal:
                    _minScore = Math.Min(_minScore, score);
                    _maxScore = Math.Max(_maxScore, score);
                    break;
            }
        }

        if (unkId < 0)
        {
            throw new TokenizerFormatException(source, "ModelProto.pieces", "unk is not defined");
        }

        if (proto.ByteFallback && Array.IndexOf(_byteIds, -1) >= 0)
        {
            throw new TokenizerFormatException(source, "ModelProto.pieces", "there are not 256 byte pieces although byte_fallback is true");
        }

        UnkId = unkId;
        _minScore = minScore ?? _minScore;
        _unkSurface = Encoding.UTF8.GetBytes(proto.UnkSurface ?? " \u2047 ");
        _normalizer = new SentencePieceNormalizer(proto.Normalizer, proto.TreatWhitespaceAsSuffix, userDefined, source, "ModelProto.normalizer_spec.precompiled_charsmap");
        if (proto.Denormalizer is { PrecompiledCharsMap.Length: > 0 } denormalizer)
        {
            _denormalizer = new SentencePieceNormalizer(denormalizer, false, null, source, "ModelProto.denormalizer_spec.precompiled_charsmap");
        }
    }

    /// <summary>Where the model came from: its file path, or the name given to <see cref="Load(byte[], string)"/>.</summary>
    public string Source { get; }

    /// <summary>Number of pieces (the vocabulary size of the model).</summary>
    public int PieceCount => _pieces.Length;

    /// <summary>Id of the unknown piece.</summary>
    public int UnkId { get; }

    /// <summary>Id of <c>&lt;s&gt;</c> according to the trainer spec, or -1 when the model has none.</summary>
    public int BosId => _proto.BosId;

    /// <summary>Id of <c>&lt;/s&gt;</c> according to the trainer spec, or -1 when the model has none.</summary>
    public int EosId => _proto.EosId;

    /// <summary>Id of <c>&lt;pad&gt;</c> according to the trainer spec, or -1 when the model has none.</summary>
    public int PadId => _proto.PadId;

    /// <summary>The segmentation algorithm recorded in the model.</summary>
    public SentencePieceModelType ModelType => _proto.ModelType;

    /// <summary>Whether unknown characters are encoded as UTF-8 byte pieces.</summary>
    public bool ByteFallback => _proto.ByteFallback;

    /// <summary>The normalization rule name (e.g. <c>nmt_nfkc</c>).</summary>
    public string NormalizerName => _proto.Normalizer.Name;

    /// <summary>Loads a model file.</summary>
    /// <param name="path">Path of the <c>.model</c> / <c>.spm</c> file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="TokenizerFormatException">The file is corrupt or truncated.</exception>
    public static SentencePieceModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"SentencePiece model '{path}' does not exist.", path);
        }

        return Load(File.ReadAllBytes(path), path);
    }

    /// <summary>Loads a model from the bytes of a serialized <c>ModelProto</c>.</summary>
    /// <param name="data">The serialized model.</param>
    /// <param name="sourceName">Name used in error messages (usually the file path).</param>
    /// <returns>The model.</returns>
    /// <exception cref="TokenizerFormatException">The bytes are corrupt or truncated.</exception>
    public static SentencePieceModel Load(byte[] data, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new SentencePieceModel(SentencePieceModelProto.Parse(data, sourceName), sourceName);
    }

    /// <summary>
    /// Loads a model file with <c>add_dummy_prefix</c> switched off, as transformers' non-legacy T5/Llama
    /// tokenizers rewrite the model before loading it.
    /// </summary>
    internal static SentencePieceModel LoadWithoutDummyPrefix(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"SentencePiece model '{path}' does not exist.", path);
        }

        var proto = SentencePieceModelProto.Parse(File.ReadAllBytes(path), path);
        proto.Normalizer.AddDummyPrefix = false;
        return new SentencePieceModel(proto, path);
    }

    /// <summary>
    /// A model over a piece table from a <c>tokenizer.json</c> Unigram model. The normalizer is the identity (the
    /// fast tokenizer normalizes and pre-tokenizes before the model runs); <paramref name="minScore"/> is the
    /// lowest score of the whole vocabulary, from which the <c>tokenizers</c> library derives the unknown piece's
    /// score (sentencepiece looks at normal pieces only).
    /// </summary>
    internal static SentencePieceModel FromPieces(SentencePieceModelProto proto, string source, float minScore) =>
        new(proto, source, minScore);

    /// <summary>Loads a model from a stream holding a serialized <c>ModelProto</c>.</summary>
    /// <param name="stream">The stream; read to its end, not disposed.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <returns>The model.</returns>
    /// <exception cref="TokenizerFormatException">The bytes are corrupt or truncated.</exception>
    public static SentencePieceModel Load(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.ToArray(), sourceName);
    }

    /// <summary>The id of a piece, or <see cref="UnkId"/> when the model does not have it (as sentencepiece).</summary>
    /// <param name="piece">The piece text.</param>
    /// <returns>Its id.</returns>
    public int PieceToId(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        return TryGetId(piece, out int id) ? id : UnkId;
    }

    /// <summary>Looks a piece up without falling back to the unknown id.</summary>
    /// <param name="piece">The piece text.</param>
    /// <param name="id">Its id when found.</param>
    /// <returns>Whether the model has the piece.</returns>
    public bool TryGetId(string piece, out int id) =>
        _pieceIds.TryGetValue(piece, out id) || _reservedIds.TryGetValue(piece, out id);

    /// <summary>The piece with the given id.</summary>
    /// <param name="id">A piece id.</param>
    /// <returns>The piece text.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not a valid id.</exception>
    public string IdToPiece(int id)
    {
        CheckId(id);
        return _pieces[id];
    }

    /// <summary>The type of the piece with the given id.</summary>
    /// <param name="id">A piece id.</param>
    /// <returns>Its type.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not a valid id.</exception>
    public SentencePiecePieceType GetPieceType(int id)
    {
        CheckId(id);
        return _types[id];
    }

    /// <summary>The score (log probability for unigram) of the piece with the given id.</summary>
    /// <param name="id">A piece id.</param>
    /// <returns>Its score.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not a valid id.</exception>
    public float GetScore(int id)
    {
        CheckId(id);
        return _scores[id];
    }

    /// <summary>Normalizes text as the model does before segmentation (spaces become U+2581).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The normalized text.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    public string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Utf8Util.GetString(_normalizer.Normalize(Utf8Util.ToUtf8(text, nameof(text))));
    }

    /// <summary>Segments text into pieces, as <c>EncodeAsPieces</c> of the sentencepiece library.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The pieces.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    /// <exception cref="NotSupportedException">The model type is neither unigram nor BPE.</exception>
    public IReadOnlyList<string> EncodeAsPieces(string text)
    {
        var pieces = new List<string>();
        Encode(text, pieces, null);
        return pieces;
    }

    /// <summary>Segments text into piece ids, as <c>EncodeAsIds</c> of the sentencepiece library.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    /// <exception cref="NotSupportedException">The model type is neither unigram nor BPE.</exception>
    public int[] EncodeAsIds(string text)
    {
        var ids = new List<int>();
        Encode(text, null, ids);
        return [.. ids];
    }

    /// <summary>Joins pieces back into text, as <c>DecodePieces</c> of the sentencepiece library.</summary>
    /// <param name="pieces">The pieces; ones the model does not know are copied verbatim.</param>
    /// <returns>The text.</returns>
    public string DecodePieces(IReadOnlyList<string> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var ids = new int[pieces.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = PieceToId(pieces[i] ?? throw new ArgumentException($"Piece {i} is null.", nameof(pieces)));
        }

        return Decode(pieces, ids);
    }

    /// <summary>Turns ids back into text, as <c>DecodeIds</c> of the sentencepiece library.</summary>
    /// <param name="ids">The ids.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string DecodeIds(ReadOnlySpan<int> ids)
    {
        var pieces = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)_pieces.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"Id at index {i} is outside the vocabulary of {_pieces.Length} pieces.");
            }

            pieces[i] = _pieces[ids[i]];
        }

        return Decode(pieces, ids.ToArray());
    }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)_pieces.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"The model has {_pieces.Length} pieces.");
        }
    }

    private void Encode(string text, List<string>? pieces, List<int>? ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] normalized = _normalizer.Normalize(Utf8Util.ToUtf8(text, nameof(text)));
        if (normalized.Length == 0)
        {
            return;
        }

        var segments = _proto.ModelType switch
        {
            SentencePieceModelType.Unigram => Viterbi(normalized),
            SentencePieceModelType.Bpe => BpeMerge(normalized),
            _ => throw new NotSupportedException($"SentencePiece model type {_proto.ModelType} of '{Source}' is not supported; only unigram and BPE models are."),
        };
        bool prevUnknown = false;
        foreach (var (start, end, id) in segments)
        {
            bool isUnknown = _types[id] == SentencePiecePieceType.Unknown;
            if (isUnknown && _proto.ByteFallback)
            {
                for (int i = start; i < end; i++)
                {
                    int byteId = _byteIds[normalized[i]];
                    pieces?.Add(_pieces[byteId]);
                    ids?.Add(byteId);
                }
            }
            else if (isUnknown && prevUnknown)
            {
                // Runs of unknown characters become one unknown piece, as sentencepiece merges them.
                if (pieces is not null)
                {
                    pieces[^1] += Utf8Util.GetString(normalized.AsSpan(start, end - start));
                }
            }
            else
            {
                pieces?.Add(Utf8Util.GetString(normalized.AsSpan(start, end - start)));
                ids?.Add(id);
            }

            prevUnknown = isUnknown;
        }
    }

    /// <summary>
    /// sentencepiece's optimized unigram Viterbi over UTF-8 positions. The mix of float and double arithmetic is
    /// deliberate: it is what the C++ code does, and near-ties between segmentations depend on it.
    /// </summary>
    private List<(int Start, int End, int Id)> Viterbi(byte[] normalized)
    {
        int size = normalized.Length;
        float unkScore = _minScore - UnknownPenalty;
        var bestScore = new float[size + 1];
        var bestStart = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(bestStart, -1);
        Array.Fill(bestId, -1);

        int startsAt = 0;
        while (startsAt < size)
        {
            float scoreTillHere = bestScore[startsAt];
            bool hasSingleNode = false;
            int charLength = Math.Min(Utf8Util.OneCharLength(normalized[startsAt]), size - startsAt);
            int node = 0;
            for (int keyPos = startsAt; keyPos < size;)
            {
                node = _trie.Step(node, normalized[keyPos]);
                if (node < 0)
                {
                    break;
                }

                keyPos++;
                int id = _trie.ValueAt(node);
                if (id < 0 || _types[id] == SentencePiecePieceType.Unused)
                {
                    continue;
                }

                int length = keyPos - startsAt;
                double score = _types[id] == SentencePiecePieceType.UserDefined
                    ? (double)(length * _maxScore) - 0.1
                    : _scores[id];
                double candidate = score + scoreTillHere;
                if (bestStart[keyPos] == -1 || candidate > bestScore[keyPos])
                {
                    bestScore[keyPos] = (float)candidate;
                    bestStart[keyPos] = startsAt;
                    bestId[keyPos] = id;
                }

                if (length == charLength)
                {
                    hasSingleNode = true;
                }
            }

            if (!hasSingleNode)
            {
                int end = startsAt + charLength;
                float candidate = unkScore + scoreTillHere;
                if (bestStart[end] == -1 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    bestStart[end] = startsAt;
                    bestId[end] = UnkId;
                }
            }

            startsAt += charLength;
        }

        var result = new List<(int, int, int)>();
        for (int endsAt = size; endsAt > 0; endsAt = bestStart[endsAt])
        {
            result.Add((bestStart[endsAt], endsAt, bestId[endsAt]));
        }

        result.Reverse();
        return result;
    }

    /// <summary>
    /// sentencepiece's BPE <c>Model::Encode</c>: the text split into characters (user-defined pieces kept whole and
    /// frozen), then the adjacent pair whose concatenation is a piece with the highest score merged first (ties: the
    /// leftmost), until no pair is a piece; merged pieces of type unused are split back into what they were made of.
    /// </summary>
    private List<(int Start, int End, int Id)> BpeMerge(byte[] normalized)
    {
        var starts = new List<int>();
        var ends = new List<int>();
        var freeze = new List<bool>();
        for (int pos = 0; pos < normalized.Length;)
        {
            int length = _userDefined.LongestPrefix(normalized.AsSpan(pos));
            bool frozen = length > 0;
            if (!frozen)
            {
                length = Math.Min(Utf8Util.OneCharLength(normalized[pos]), normalized.Length - pos);
            }

            starts.Add(pos);
            ends.Add(pos + length);
            freeze.Add(frozen);
            pos += length;
        }

        int count = starts.Count;
        var prev = new int[count];
        var next = new int[count];
        for (int i = 0; i < count; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
        }

        // The agenda is a max-heap on (score, -left); stale entries are skipped when popped, as in the C++ code.
        var agenda = new PriorityQueue<(int Left, int Right, int Size), (float Score, int Left)>(
            Comparer<(float Score, int Left)>.Create((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));
        var revMerge = new Dictionary<string, (string Left, string Right)>(StringComparer.Ordinal);

        void MaybeAddPair(int left, int right)
        {
            if (left == -1 || right == -1 || freeze[left] || freeze[right])
            {
                return;
            }

            int size = ends[right] - starts[left];
            if (!_pieceIds.TryGetValue(Utf8Util.GetString(normalized.AsSpan(starts[left], size)), out int id))
            {
                return;
            }

            agenda.Enqueue((left, right, size), (_scores[id], left));
            if (_types[id] == SentencePiecePieceType.Unused)
            {
                revMerge[Utf8Util.GetString(normalized.AsSpan(starts[left], size))] =
                    (Utf8Util.GetString(normalized.AsSpan(starts[left], ends[left] - starts[left])),
                     Utf8Util.GetString(normalized.AsSpan(starts[right], ends[right] - starts[right])));
            }
        }

        for (int i = 1; i < count; i++)
        {
            MaybeAddPair(i - 1, i);
        }

        while (agenda.TryDequeue(out var top, out _))
        {
            int leftSize = ends[top.Left] - starts[top.Left];
            int rightSize = ends[top.Right] - starts[top.Right];
            if (leftSize == 0 || rightSize == 0 || leftSize + rightSize != top.Size)
            {
                continue;
            }

            ends[top.Left] = ends[top.Right];
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0)
            {
                prev[next[top.Right]] = top.Left;
            }

            ends[top.Right] = starts[top.Right];
            MaybeAddPair(prev[top.Left], top.Left);
            MaybeAddPair(top.Left, next[top.Left]);
        }

        var result = new List<(int, int, int)>();
        for (int index = 0; index != -1 && count > 0; index = next[index])
        {
            Resegment(starts[index], ends[index] - starts[index]);
        }

        return result;

        void Resegment(int start, int size)
        {
            string piece = Utf8Util.GetString(normalized.AsSpan(start, size));
            int id = TryGetId(piece, out int found) ? found : UnkId;
            if (_types[id] != SentencePiecePieceType.Unused || !revMerge.TryGetValue(piece, out var parts))
            {
                result.Add((start, start + size, id));
                return;
            }

            int leftBytes = System.Text.Encoding.UTF8.GetByteCount(parts.Left);
            Resegment(start, leftBytes);
            Resegment(start + leftBytes, size - leftBytes);
        }
    }

    private string Decode(IReadOnlyList<string> pieces, int[] ids)
    {
        var text = new ByteBuilder(pieces.Count * 4);
        int byteStart = 0;
        bool isBosWs = true;
        bool bosWsSeen = false;
        for (int i = 0; i < pieces.Count; i++)
        {
            if (_types[ids[i]] == SentencePiecePieceType.Byte)
            {
                continue;
            }

            AppendBytePieces(text, pieces, byteStart, i);
            if (bosWsSeen || text.Length > 0)
            {
                isBosWs = false;
            }

            byteStart = i + 1;
            bosWsSeen = AppendPiece(text, pieces[i], ids[i], isBosWs);
        }

        AppendBytePieces(text, pieces, byteStart, pieces.Count);
        byte[] result = text.ToArray();
        if (_denormalizer is not null)
        {
            result = _denormalizer.Normalize(result);
        }

        return Utf8Util.GetString(result);
    }

    private bool AppendPiece(ByteBuilder text, string piece, int id, bool isBosWs)
    {
        switch (_types[id])
        {
            case SentencePiecePieceType.Control:
                return false;
            case SentencePiecePieceType.Unknown:
                // A piece the model does not know maps to the unknown id but is copied as is; only the real
                // unknown piece becomes the unk surface.
                text.Append(piece == _pieces[id] ? _unkSurface : Encoding.UTF8.GetBytes(piece));
                return false;
        }

        ReadOnlySpan<byte> bytes = Encoding.UTF8.GetBytes(piece);
        bool hasBosWs = false;
        var spec = _proto.Normalizer;
        if (isBosWs && (spec.AddDummyPrefix || spec.RemoveExtraWhitespaces))
        {
            if (bytes.StartsWith(Utf8Util.SpaceSymbol))
            {
                bytes = bytes[Utf8Util.SpaceSymbol.Length..];
                hasBosWs = true;
            }

            if (spec.RemoveExtraWhitespaces)
            {
                hasBosWs = false;
            }
        }

        while (!bytes.IsEmpty)
        {
            int at = bytes.IndexOf(Utf8Util.SpaceSymbol);
            if (at < 0)
            {
                text.Append(bytes);
                break;
            }

            text.Append(bytes[..at]);
            text.Append((byte)' ');
            bytes = bytes[(at + Utf8Util.SpaceSymbol.Length)..];
        }

        return hasBosWs;
    }

    private static void AppendBytePieces(ByteBuilder text, IReadOnlyList<string> pieces, int begin, int end)
    {
        if (begin >= end)
        {
            return;
        }

        var bytes = new byte[end - begin];
        for (int i = begin; i < end; i++)
        {
            bytes[i - begin] = (byte)PieceToByte(pieces[i]);
        }

        int offset = 0;
        while (offset < bytes.Length)
        {
            if (Utf8Util.IsValidPrefix(bytes.AsSpan(offset), out int consumed))
            {
                text.Append(bytes.AsSpan(offset, consumed));
            }
            else
            {
                text.Append(Utf8Util.ReplacementCharacter);
            }

            offset += consumed;
        }
    }

    private static int PieceToByte(string piece)
    {
        if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && int.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
        {
            return value;
        }

        return -1;
    }
}
