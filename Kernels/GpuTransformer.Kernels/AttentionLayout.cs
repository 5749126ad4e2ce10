namespace GpuTransformer.Kernels;

/// <summary>
/// Where the rows of one attention call live. Query row <c>i</c> of sequence <c>b</c> starts at
/// <c>b * QueryBatchStride + i * QueryRowStride</c>; key/value row <c>j</c> of sequence <c>b</c> starts at
/// <c>(b / KeyValueGroup) * KeyValueBatchStride + j * KeyValueRowStride</c>, so beams can share one encoder's K/V and
/// a KV cache with spare capacity is read in place. Head <c>h</c> is the slice <c>[h * HeadDim, (h + 1) * HeadDim)</c>
/// of each row, as <c>nn.Linear</c> outputs it, so no transpose is needed. An additive bias (T5's relative
/// positions), when given, is read as <c>bias[h * BiasHeadStride + (BiasRowOffset + i) * BiasRowStride + j]</c>, the
/// same for every sequence.
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

    /// <summary>Elements between the bias blocks of consecutive heads.</summary>
    public long BiasHeadStride { get; init; }

    /// <summary>Elements between the bias rows of consecutive queries.</summary>
    public int BiasRowStride { get; init; }

    /// <summary>Bias row of query 0 (the absolute position of the first query when the bias covers all positions).</summary>
    public int BiasRowOffset { get; init; }

    /// <summary>The bias layout of a dense <c>[heads, QueryLength, KeyLength]</c> block.</summary>
    /// <returns>This layout with the bias strides set for that block.</returns>
    public AttentionLayout WithDenseBias() => this with { BiasHeadStride = (long)QueryLength * KeyLength, BiasRowStride = KeyLength, BiasRowOffset = 0 };

    /// <summary>Elements a view needs to hold queries (and outputs) in this layout.</summary>
    public long QueryElements => Batch == 0 || QueryLength == 0 ? 0 : (Batch - 1) * QueryBatchStride + (long)(QueryLength - 1) * QueryRowStride + (long)Heads * HeadDim;

    /// <summary>Key/value sequences: one per <see cref="KeyValueGroup"/> query sequences.</summary>
    public int KeyValueBatches => (Batch + KeyValueGroup - 1) / KeyValueGroup;

    /// <summary>Elements a view needs to hold keys (or values) in this layout.</summary>
    public long KeyValueElements => Batch == 0 || KeyLength == 0 ? 0 : (KeyValueBatches - 1) * KeyValueBatchStride + (long)(KeyLength - 1) * KeyValueRowStride + (long)Heads * HeadDim;

    /// <summary>Elements a view needs to hold the bias in this layout.</summary>
    public long BiasElements => Batch == 0 || QueryLength == 0 || KeyLength == 0 ? 0 : (Heads - 1) * BiasHeadStride + (long)(BiasRowOffset + QueryLength - 1) * BiasRowStride + KeyLength;
}
