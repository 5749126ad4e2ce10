namespace GpuTransformer.Model.Architectures;

/// <summary>How a family tells the model where each token is.</summary>
internal enum PositionEncoding
{
    /// <summary>Static sin/cos table added to the embeddings, sin in the first half (Marian, Pegasus).</summary>
    Sinusoidal,

    /// <summary>A learned table added to the embeddings, row = position + offset (BART, mBART: offset 2).</summary>
    Learned,

    /// <summary>T5's bucketed relative position bias added to the attention scores, computed once per stack.</summary>
    RelativeBuckets,
}
