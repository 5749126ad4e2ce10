namespace GpuTransformer.Tokenizer;

/// <summary>
/// The parts of SentencePiece's <c>ModelProto</c> that encoding and decoding need, parsed by hand so that the
/// tokenizer depends on the BCL only. Field numbers follow <c>sentencepiece_model.proto</c>; defaults are the
/// proto2 defaults declared there.
/// </summary>
internal sealed class SentencePieceModelProto
{
    public List<(string Piece, float Score, SentencePiecePieceType Type)> Pieces { get; } = [];

    public bool HasTrainerSpec { get; private set; }

    public bool HasNormalizerSpec { get; private set; }

    public SentencePieceModelType ModelType { get; private set; } = SentencePieceModelType.Unigram;

    public bool TreatWhitespaceAsSuffix { get; private set; }

    public bool ByteFallback { get; private set; }

    public int UnkId { get; private set; }

    public int BosId { get; private set; } = 1;

    public int EosId { get; private set; } = 2;

    public int PadId { get; private set; } = -1;

    public string? UnkSurface { get; private set; }

    public NormalizerSpecData Normalizer { get; } = new();

    public NormalizerSpecData? Denormalizer { get; private set; }

    /// <summary>
    /// A model made from a piece table alone (a <c>tokenizer.json</c> Unigram model), with an identity normalizer:
    /// the fast tokenizer's own normalizer and pre-tokenizer run before the segmenter sees the text.
    /// </summary>
    public static SentencePieceModelProto FromPieces(IEnumerable<(string Piece, float Score, SentencePiecePieceType Type)> pieces, SentencePieceModelType modelType, bool byteFallback, int unkId)
    {
        var proto = new SentencePieceModelProto
        {
            HasTrainerSpec = true,
            HasNormalizerSpec = true,
            ModelType = modelType,
            ByteFallback = byteFallback,
            UnkId = unkId,
            BosId = -1,
            EosId = -1,
        };
        proto.Pieces.AddRange(pieces);
        proto.Normalizer.Name = "identity";
        proto.Normalizer.AddDummyPrefix = false;
        proto.Normalizer.RemoveExtraWhitespaces = false;
        proto.Normalizer.EscapeWhitespaces = false;
        return proto;
    }

    public static SentencePieceModelProto Parse(byte[] data, string source)
    {
        var proto = new SentencePieceModelProto();
        var reader = new ProtoReader(data, 0, data.Length, source, "ModelProto");
        while (reader.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "pieces");
                    proto.ReadPiece(reader.ReadMessage("pieces", $"ModelProto.pieces[{proto.Pieces.Count}]"));
                    break;
                case 2:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "trainer_spec");
                    proto.ReadTrainerSpec(reader.ReadMessage("trainer_spec", "ModelProto.trainer_spec"));
                    proto.HasTrainerSpec = true;
                    break;
                case 3:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "normalizer_spec");
                    ReadNormalizerSpec(reader.ReadMessage("normalizer_spec", "ModelProto.normalizer_spec"), proto.Normalizer);
                    proto.HasNormalizerSpec = true;
                    break;
                case 5:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "denormalizer_spec");
                    proto.Denormalizer ??= new NormalizerSpecData();
                    ReadNormalizerSpec(reader.ReadMessage("denormalizer_spec", "ModelProto.denormalizer_spec"), proto.Denormalizer);
                    break;
                default:
                    reader.SkipField(field, wire);
                    break;
            }
        }

        return proto;
    }

    private void ReadPiece(ProtoReader reader)
    {
        string? piece = null;
        float score = 0;
        var type = SentencePiecePieceType.Normal;
        while (reader.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "piece");
                    piece = reader.ReadString("piece");
                    break;
                case 2:
                    reader.ExpectWireType(wire, ProtoReader.WireFixed32, "score");
                    score = reader.ReadFloat("score");
                    break;
                case 3:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "type");
                    int value = reader.ReadInt32("type");
                    if (value < 1 || value > 6)
                    {
                        throw reader.Error("type", $"unknown piece type {value}");
                    }

                    type = (SentencePiecePieceType)value;
                    break;
                default:
                    reader.SkipField(field, wire);
                    break;
            }
        }

        if (string.IsNullOrEmpty(piece))
        {
            throw reader.Error("piece", "piece must not be empty");
        }

        Pieces.Add((piece, score, type));
    }

    private void ReadTrainerSpec(ProtoReader reader)
    {
        while (reader.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 3:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "model_type");
                    int type = reader.ReadInt32("model_type");
                    if (type < 1 || type > 4)
                    {
                        throw reader.Error("model_type", $"unknown model type {type}");
                    }

                    ModelType = (SentencePieceModelType)type;
                    break;
                case 24:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "treat_whitespace_as_suffix");
                    TreatWhitespaceAsSuffix = reader.ReadBool("treat_whitespace_as_suffix");
                    break;
                case 35:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "byte_fallback");
                    ByteFallback = reader.ReadBool("byte_fallback");
                    break;
                case 40:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "unk_id");
                    UnkId = reader.ReadInt32("unk_id");
                    break;
                case 41:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "bos_id");
                    BosId = reader.ReadInt32("bos_id");
                    break;
                case 42:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "eos_id");
                    EosId = reader.ReadInt32("eos_id");
                    break;
                case 43:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "pad_id");
                    PadId = reader.ReadInt32("pad_id");
                    break;
                case 44:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "unk_surface");
                    UnkSurface = reader.ReadString("unk_surface");
                    break;
                default:
                    reader.SkipField(field, wire);
                    break;
            }
        }
    }

    private static void ReadNormalizerSpec(ProtoReader reader, NormalizerSpecData spec)
    {
        while (reader.TryReadKey(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "name");
                    spec.Name = reader.ReadString("name");
                    break;
                case 2:
                    reader.ExpectWireType(wire, ProtoReader.WireLengthDelimited, "precompiled_charsmap");
                    spec.PrecompiledCharsMap = reader.ReadBytes("precompiled_charsmap");
                    break;
                case 3:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "add_dummy_prefix");
                    spec.AddDummyPrefix = reader.ReadBool("add_dummy_prefix");
                    break;
                case 4:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "remove_extra_whitespaces");
                    spec.RemoveExtraWhitespaces = reader.ReadBool("remove_extra_whitespaces");
                    break;
                case 5:
                    reader.ExpectWireType(wire, ProtoReader.WireVarint, "escape_whitespaces");
                    spec.EscapeWhitespaces = reader.ReadBool("escape_whitespaces");
                    break;
                default:
                    reader.SkipField(field, wire);
                    break;
            }
        }
    }
}
