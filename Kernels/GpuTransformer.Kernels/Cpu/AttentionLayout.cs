namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// Where the rows of one attention call live. Query row <c>i</c> of sequence <c>b</c> starts at
/// <c>b * QueryBatchStride + i * QueryRowStride</c>; key/value row <c>j</c> of sequence <c>b</c> starts at
/// <c>(b / KeyValueGroup) * KeyValueBatchStride + j * KeyValueRowStride</c>, so beams can share one encoder's K/V and
/// a KV cache with spare capacity is read in place. Head <c>h</c> is the slice <c>[h * HeadDim, (h + 1) * HeadDim)</c>
/// of each row, as <c>nn.Linear</c> outputs it, so no transpose is needed.
/// </summary>
public readonly record struct AttentionLayout
{
    /// <summary>Creates a layout; set the required members with an initializer.</summary>
    public AttentionLayout()
    {
    }

    /// <summary>Number of query sequences.</summary>
    public required int Batch { get; init; }

    /// <summary>Number of heads.</summary>
    public required int Heads { get; init; }

    /// <summary>Elements per head.</summary>
    public required int HeadDim { get; init; }

    /// <summary>Query rows per sequence.</summary>
    public required int QueryLength { get; init; }

    /// <summary>Key/value rows per sequence (before padding masks).</summary>
    public required int KeyLength { get; init; }

    /// <summary>Elements between consecutive query rows (and output rows).</summary>
    public required int QueryRowStride { get; init; }

    /// <summary>Elements between the first query rows of consecutive sequences.</summary>
    public required long QueryBatchStride { get; init; }

    /// <summary>Elements between consecutive key/value rows.</summary>
    public required int KeyValueRowStride { get; init; }

    /// <summary>Elements between the key/value blocks of consecutive key/value sequences.</summary>
    public required long KeyValueBatchStride { get; init; }

    /// <summary>How many consecutive query sequences share one key/value sequence (beams); 1 normally.</summary>
    public int KeyValueGroup { get; init; } = 1;

    /// <summary>When set, query <c>i</c> sees only keys <c>j &lt;= CausalOffset + i</c>.</summary>
    public bool Causal { get; init; }

    /// <summary>Absolute position of query row 0, for the causal mask (the number of cached positions).</summary>
    public int CausalOffset { get; init; }

    /// <summary>Multiplies each query element before the dot products (HF scales the projected query).</summary>
    public float Scale { get; init; } = 1f;
}
