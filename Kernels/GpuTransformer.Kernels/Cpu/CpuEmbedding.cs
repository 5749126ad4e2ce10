namespace GpuTransformer.Kernels.Cpu;

/// <summary>The CPU implementation of <see cref="Embedding"/>.Lookup.</summary>
public static class CpuEmbedding
{
    /// <summary>Writes one scaled embedding plus position row per token.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="table">Embedding rows.</param>
    /// <param name="vocab">Rows of the table.</param>
    /// <param name="dim">Row width.</param>
    /// <param name="scale">Embedding scale.</param>
    /// <param name="positions">Position rows, or empty.</param>
    /// <param name="positionRows">Rows in the position table.</param>
    /// <param name="positionIds">Explicit positions, or empty.</param>
    /// <param name="firstPosition">First position when counting.</param>
    /// <param name="positionsPerSequence">Tokens per sequence when counting.</param>
    /// <param name="positionOffset">Row offset into the position table.</param>
    /// <param name="output">One row per token.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id or position is outside its table.</exception>
    public static void Lookup(ReadOnlySpan<int> ids, ReadOnlySpan<float> table, int vocab, int dim, float scale, ReadOnlySpan<float> positions, int positionRows, ReadOnlySpan<int> positionIds, int firstPosition, int positionsPerSequence, int positionOffset, Span<float> output)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id outside the vocabulary of {vocab}");
            }

            var row = output.Slice(t * dim, dim);
            var embedding = table.Slice(id * dim, dim);
            if (positions.IsEmpty)
            {
                for (int c = 0; c < dim; c++)
                {
                    row[c] = embedding[c] * scale;
                }

                continue;
            }

            int position = (positionIds.IsEmpty ? firstPosition + t % positionsPerSequence : positionIds[t]) + positionOffset;
            if ((uint)position >= (uint)positionRows)
            {
                throw new ArgumentOutOfRangeException(nameof(positionIds), position, $"position row outside a table of {positionRows}");
            }

            var pos = positions.Slice(position * dim, dim);
            for (int c = 0; c < dim; c++)
            {
                row[c] = embedding[c] * scale + pos[c];
            }
        }
    }

    /// <summary>Writes one scaled embedding plus position row per token, reading the table out of a packed weight.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="table">The table, packed for the GEMM of a tied output projection.</param>
    /// <param name="scale">Embedding scale.</param>
    /// <param name="positions">Position rows, or empty.</param>
    /// <param name="positionRows">Rows in the position table.</param>
    /// <param name="positionIds">Explicit positions, or empty.</param>
    /// <param name="firstPosition">First position when counting.</param>
    /// <param name="positionsPerSequence">Tokens per sequence when counting.</param>
    /// <param name="positionOffset">Row offset into the position table.</param>
    /// <param name="output">One row per token.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id or position is outside its table.</exception>
    public static void Lookup(ReadOnlySpan<int> ids, CpuPackedWeight table, float scale, ReadOnlySpan<float> positions, int positionRows, ReadOnlySpan<int> positionIds, int firstPosition, int positionsPerSequence, int positionOffset, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(table);
        int dim = table.In;
        for (int t = 0; t < ids.Length; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)table.Out)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id outside the vocabulary of {table.Out}");
            }

            var row = output.Slice(t * dim, dim);
            table.ReadRow(id, row, scale);
            if (positions.IsEmpty)
            {
                continue;
            }

            int position = (positionIds.IsEmpty ? firstPosition + t % positionsPerSequence : positionIds[t]) + positionOffset;
            if ((uint)position >= (uint)positionRows)
            {
                throw new ArgumentOutOfRangeException(nameof(positionIds), position, $"position row outside a table of {positionRows}");
            }

            var pos = positions.Slice(position * dim, dim);
            for (int c = 0; c < dim; c++)
            {
                row[c] += pos[c];
            }
        }
    }
}
