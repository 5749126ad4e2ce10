namespace GpuTransformer.Tokenizer;

/// <summary>
/// A tokenizer file (SentencePiece model, vocabulary or tokenizer configuration) is corrupt, truncated or not in
/// the expected format.
/// </summary>
public sealed class TokenizerFormatException : FormatException
{
    /// <summary>Creates the exception for a problem in <paramref name="filePath"/> at <paramref name="field"/>.</summary>
    /// <param name="filePath">The file that is broken, or a description of the in-memory source.</param>
    /// <param name="field">The field or part of the file that is broken (e.g. <c>ModelProto.pieces[3].score</c>).</param>
    /// <param name="detail">What is wrong.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public TokenizerFormatException(string filePath, string field, string detail, Exception? innerException = null)
        : base($"Invalid tokenizer file '{filePath}', field '{field}': {detail}", innerException)
    {
        FilePath = filePath;
        Field = field;
    }

    /// <summary>The file that is broken.</summary>
    public string FilePath { get; }

    /// <summary>The field or part of the file that is broken.</summary>
    public string Field { get; }
}
