namespace GpuTransformer.Tokenizer;

/// <summary>The type of a piece in a SentencePiece model (<c>ModelProto.SentencePiece.Type</c>).</summary>
public enum SentencePiecePieceType
{
    /// <summary>An ordinary piece that the encoder may produce.</summary>
    Normal = 1,

    /// <summary>The unknown piece (<c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,

    /// <summary>A control symbol such as <c>&lt;s&gt;</c> or <c>&lt;/s&gt;</c>; never produced from text.</summary>
    Control = 3,

    /// <summary>A user-defined symbol; always matched as a whole and never normalized.</summary>
    UserDefined = 4,

    /// <summary>A piece that exists in the vocabulary but is never produced.</summary>
    Unused = 5,

    /// <summary>A byte piece <c>&lt;0xXX&gt;</c> used by byte fallback.</summary>
    Byte = 6,
}
