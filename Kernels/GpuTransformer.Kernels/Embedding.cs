using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// Token embedding lookup with scaling and added positions:
/// <c>out[t] = table[ids[t]] · scale + positions[p(t) + offset]</c>, where <c>p(t)</c> is <c>positionIds[t]</c> when
/// given, else <c>firstPosition + t mod positionsPerSequence</c> (each sequence's tokens are consecutive).
/// </summary>
public static class Embedding
{
    /// <summary>
    /// Writes the embeddings of <paramref name="count"/> tokens from a table held as a <see cref="LinearWeight"/>
    /// (a tied embedding and output projection): on the <c>cpu</c> backend a table held only packed for the GEMM is
    /// read out of its panels, so it needs no second, row-major copy.
    /// </summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="ids">Token ids; the caller guarantees each is in [0, <see cref="LinearWeight.Out"/>).</param>
    /// <param name="count">Tokens.</param>
    /// <param name="table">The table: <see cref="LinearWeight.Out"/> rows (the vocabulary) of <see cref="LinearWeight.In"/>.</param>
    /// <param name="scale">Multiplies each embedding (sqrt(d_model) where the family scales).</param>
    /// <param name="positions">Position table rows, or empty for none (T5).</param>
    /// <param name="positionRows">Rows in <paramref name="positions"/>.</param>
    /// <param name="positionIds">Position of each token, or empty to count them.</param>
    /// <param name="firstPosition">Position of each sequence's first token when counting.</param>
    /// <param name="positionsPerSequence">Consecutive tokens per sequence when counting.</param>
    /// <param name="positionOffset">Added to every position to get its table row.</param>
    /// <param name="output"><paramref name="count"/> rows of the table's width.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator, or a position falls outside the table.</exception>
    public static void Lookup(
        Accelerator accelerator,
        ArrayView<int> ids,
        int count,
        LinearWeight table,
        float scale,
        ArrayView<float> positions,
        int positionRows,
        ArrayView<int> positionIds,
        int firstPosition,
        int positionsPerSequence,
        int positionOffset,
        ArrayView<float> output)
    {
        const string op = "Embedding.Lookup";
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(table);
        if (table.Packed is not { } packed)
        {
            Lookup(accelerator, ids, count, table.Weight, table.Out, table.In, scale, positions, positionRows, positionIds, firstPosition, positionsPerSequence, positionOffset, output);
            return;
        }

        int dim = table.In;
        OpChecks.NonNegative(count, op, nameof(count));
        ArgumentOutOfRangeException.ThrowIfLessThan(positionsPerSequence, 1);
        if (table.Accelerator != accelerator)
        {
            throw new ArgumentException($"{op}: the table is on {table.Accelerator.Id}, not {accelerator.Id}", nameof(table));
        }

        OpChecks.View(accelerator, ids, count, op, nameof(ids));
        OpChecks.Optional(accelerator, positions, (long)positionRows * dim, op, nameof(positions));
        OpChecks.Optional(accelerator, positionIds, count, op, nameof(positionIds));
        OpChecks.View(accelerator, output, (long)count * dim, op, nameof(output));
        if (!positions.IsEmpty && positionIds.IsEmpty && count > 0 && (firstPosition < 0 || firstPosition + Math.Min(count, positionsPerSequence) - 1 + positionOffset >= positionRows))
        {
            throw new ArgumentException($"{op}: positions {firstPosition}..{firstPosition + Math.Min(count, positionsPerSequence) - 1} (+{positionOffset}) are outside a table of {positionRows} rows", nameof(firstPosition));
        }

        if (count == 0)
        {
            return;
        }

        CpuEmbedding.Lookup(ids.AsSpan()[..count], packed, scale, positions.AsSpan(), positionRows, positionIds.AsSpan(), firstPosition, positionsPerSequence, positionOffset, output.AsSpan());
    }

    /// <summary>Writes the embeddings of <paramref name="count"/> tokens.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="ids">Token ids; the caller guarantees each is in [0, <paramref name="vocab"/>).</param>
    /// <param name="count">Tokens.</param>
    /// <param name="table">Embedding table, <paramref name="vocab"/> rows of <paramref name="dim"/>.</param>
    /// <param name="vocab">Rows of the table.</param>
    /// <param name="dim">Embedding width.</param>
    /// <param name="scale">Multiplies each embedding (sqrt(d_model) where the family scales).</param>
    /// <param name="positions">Position table rows of <paramref name="dim"/>, or empty for none (T5).</param>
    /// <param name="positionRows">Rows in <paramref name="positions"/>.</param>
    /// <param name="positionIds">Position of each token, or empty to count them.</param>
    /// <param name="firstPosition">Position of each sequence's first token when counting.</param>
    /// <param name="positionsPerSequence">Consecutive tokens per sequence when counting.</param>
    /// <param name="positionOffset">Added to every position to get its table row (2 for BART's learned table).</param>
    /// <param name="output"><paramref name="count"/> rows of <paramref name="dim"/>.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator, or a position falls outside the table.</exception>
    public static void Lookup(
        Accelerator accelerator,
        ArrayView<int> ids,
        int count,
        ArrayView<float> table,
        int vocab,
        int dim,
        float scale,
        ArrayView<float> positions,
        int positionRows,
        ArrayView<int> positionIds,
        int firstPosition,
        int positionsPerSequence,
        int positionOffset,
        ArrayView<float> output)
    {
        const string op = "Embedding.Lookup";
        ArgumentNullException.ThrowIfNull(accelerator);
        OpChecks.NonNegative(count, op, nameof(count));
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(positionsPerSequence, 1);
        OpChecks.View(accelerator, ids, count, op, nameof(ids));
        OpChecks.View(accelerator, table, (long)vocab * dim, op, nameof(table));
        OpChecks.Optional(accelerator, positions, (long)positionRows * dim, op, nameof(positions));
        OpChecks.Optional(accelerator, positionIds, count, op, nameof(positionIds));
        OpChecks.View(accelerator, output, (long)count * dim, op, nameof(output));
        if (!positions.IsEmpty && positionIds.IsEmpty && count > 0 && (firstPosition < 0 || firstPosition + Math.Min(count, positionsPerSequence) - 1 + positionOffset >= positionRows))
        {
            throw new ArgumentException($"{op}: positions {firstPosition}..{firstPosition + Math.Min(count, positionsPerSequence) - 1} (+{positionOffset}) are outside a table of {positionRows} rows", nameof(firstPosition));
        }

        if (count == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                CpuEmbedding.Lookup(ids.AsSpan()[..count], table.AsSpan(), vocab, dim, scale, positions.AsSpan(), positionRows, positionIds.AsSpan(), firstPosition, positionsPerSequence, positionOffset, output.AsSpan());
                break;
            default:
                Device.EmbeddingKernels.Lookup(accelerator, ids, count, table, vocab, dim, scale, positions, positionRows, positionIds, firstPosition, positionsPerSequence, positionOffset, output);
                break;
        }
    }
}
