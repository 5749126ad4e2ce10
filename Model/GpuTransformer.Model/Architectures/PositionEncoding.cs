namespace GpuTransformer.Model.Architectures;

/// <summary>How a family tells the model where each token is.</summary>
internal enum PositionEncoding
{
    /// <summary>
    /// Static sin/cos table added to the embeddings, sin in the first half, frequencies 10000^(-2j/d) (Marian,
    /// Pegasus); rows start at position 0.
    /// </summary>
    Sinusoidal,

    /// <summary>A learned table added to the embeddings, row = position + offset (BART, mBART: offset 2).</summary>
    Learned,

    /// <summary>
    /// M2M100's fairseq (tensor2tensor) table: frequencies exp(-ln(10000) i / (d/2 - 1)), computed in float32, with a
    /// zero row at padding_idx; rows are picked from the token ids (see <see cref="ArchitectureSpec.PositionPaddingId"/>).
    /// </summary>
    FairseqSinusoidal,

    /// <summary>T5's bucketed relative position bias added to the attention scores, computed once per stack.</summary>
    RelativeBuckets,
}
