using GpuTransformer.Kernels;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>Embedding lookup and row gather on every backend against the reference.</summary>
public sealed class GatherConformanceTests
{
    /// <summary>Embedding variants.</summary>
    public static TheoryData<string, string> EmbeddingRows() => ConformanceBackends.Rows(
        ["small no positions", "small counted positions", "small explicit positions", "counted positions d257", "learned offset 2 d64"]);

    /// <summary>Row gather variants.</summary>
    public static TheoryData<string, string> GatherRows() => ConformanceBackends.Rows(["small 1x1 in 1", "small 4x7 in 9", "beams 12x300 in 512", "beams 8x1024 in 1024"]);

    /// <summary>out[t] = table[id] · scale + positions[p(t) + offset].</summary>
    [Theory]
    [MemberData(nameof(EmbeddingRows))]
    public void EmbeddingMatchesReference(string name, string device)
    {
        int dim = name.Contains("d257", StringComparison.Ordinal) ? 257 : name.Contains("d64", StringComparison.Ordinal) ? 64 : 5;
        int vocab = 11, count = 7, perSequence = 3, first = 2, offset = name.Contains("offset", StringComparison.Ordinal) ? 2 : 0, positionRows = 16;
        int seed = RandomData.Seed(name);
        var table = RandomData.Uniform(seed, vocab * dim);
        var positions = RandomData.Uniform(seed + 1, positionRows * dim);
        int[] ids = [3, 0, 10, 10, 5, 1, 7];
        int[] positionIds = [4, 0, 9, 13, 2, 2, 1];
        bool usePositions = !name.Contains("no positions", StringComparison.Ordinal);
        bool explicitIds = name.Contains("explicit", StringComparison.Ordinal);
        var expected = new double[count * dim];
        for (int t = 0; t < count; t++)
        {
            int row = (explicitIds ? positionIds[t] : first + t % perSequence) + offset;
            for (int c = 0; c < dim; c++)
            {
                expected[t * dim + c] = (double)table[ids[t] * dim + c] * 1.5f + (usePositions ? positions[row * dim + c] : 0);
            }
        }

        using var accelerator = ConformanceBackends.Open(device);
        using var ib = new GuardedBuffer<int>(accelerator, count, -1, ids);
        using var pib = new GuardedBuffer<int>(accelerator, count, -1, positionIds);
        using var tb = new GuardedBuffer<float>(accelerator, table.Length, 555f, table);
        using var pb = new GuardedBuffer<float>(accelerator, positions.Length, 555f, positions);
        using var ob = new GuardedBuffer<float>(accelerator, count * dim, 555f);
        Embedding.Lookup(accelerator, ib.View, count, tb.View, vocab, dim, 1.5f, usePositions ? pb.View : default, positionRows, explicitIds ? pib.View : default, first, perSequence, offset, ob.View);
        Compare.Close(expected, ob.ReadChecked(name), 1e-6, 1e-6, $"Embedding {name} on {device}");
    }

    /// <summary>Tables held as a tied embedding and output projection.</summary>
    public static TheoryData<string, string> TiedTableRows() => ConformanceBackends.Rows(["vocab 11 d5", "vocab 77 d64", "vocab 1100 d40"]);

    /// <summary>
    /// The lookup of a table held as a <see cref="LinearWeight"/> streamed in by blocks of rows (on cpu only in the
    /// GEMM's packed panels): vocabularies that leave a partial panel and cross a streaming block.
    /// </summary>
    [Theory]
    [MemberData(nameof(TiedTableRows))]
    public void TiedTableLookupMatchesReference(string name, string device)
    {
        var parts = name.Split(' ');
        int vocab = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), dim = int.Parse(parts[2][1..], System.Globalization.CultureInfo.InvariantCulture);
        int count = 9, perSequence = 3, first = 1, positionRows = 8;
        int seed = RandomData.Seed(name);
        var table = RandomData.Uniform(seed, vocab * dim);
        var positions = RandomData.Uniform(seed + 1, positionRows * dim);
        var ids = Enumerable.Range(0, count).Select(t => (t * 37 + 5) % vocab).ToArray();
        ids[^1] = vocab - 1;
        var expected = new double[count * dim];
        for (int t = 0; t < count; t++)
        {
            for (int c = 0; c < dim; c++)
            {
                expected[t * dim + c] = (double)(table[ids[t] * dim + c] * 1.5f) + positions[(first + t % perSequence) * dim + c];
            }
        }

        using var accelerator = ConformanceBackends.Open(device);
        using var weight = LinearWeight.Create(accelerator, vocab, dim, default, (row, rows) => table.AsSpan(row * dim, rows.Length).CopyTo(rows), LinearWeightUse.GemmAndLookup);
        using var ib = new GuardedBuffer<int>(accelerator, count, -1, ids);
        using var pb = new GuardedBuffer<float>(accelerator, positions.Length, 555f, positions);
        using var ob = new GuardedBuffer<float>(accelerator, count * dim, 555f);
        Embedding.Lookup(accelerator, ib.View, count, weight, 1.5f, pb.View, positionRows, default, first, perSequence, 0, ob.View);
        Compare.Close(expected, ob.ReadChecked(name), 1e-6, 1e-6, $"Tied table {name} on {device}");
    }

    /// <summary>destination[r] = source[sourceRows[r]] for the used part of each row; the rest of the row, and rows marked Keep, stay.</summary>
    [Theory]
    [MemberData(nameof(GatherRows))]
    public void RowGatherMatchesReference(string name, string device)
    {
        var numbers = name.Split(' ')[1].Split('x').Select(int.Parse).ToArray();
        int rows = numbers[0], length = numbers[1], stride = int.Parse(name.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);
        int seed = RandomData.Seed(name);
        var source = RandomData.Uniform(seed, rows * stride);
        var destination = RandomData.Uniform(seed + 1, rows * stride);
        var random = new Random(seed);
        // About one row in four keeps its contents (RowGather.Keep), as beams that continue themselves do.
        var sourceRows = Enumerable.Range(0, rows).Select(_ => random.Next(4) == 0 ? RowGather.Keep : random.Next(rows)).ToArray();
        var expected = destination.Select(v => (double)v).ToArray();
        for (int r = 0; r < rows; r++)
        {
            if (sourceRows[r] == RowGather.Keep)
            {
                continue;
            }

            for (int c = 0; c < length; c++)
            {
                expected[r * stride + c] = source[sourceRows[r] * stride + c];
            }
        }

        using var accelerator = ConformanceBackends.Open(device);
        using var sb = new GuardedBuffer<float>(accelerator, source.Length, 42f, source);
        using var db = new GuardedBuffer<float>(accelerator, destination.Length, 42f, destination);
        using var rb = new GuardedBuffer<int>(accelerator, rows, -1, sourceRows);
        RowGather.Gather(accelerator, sb.View, db.View, rb.View, rows, stride, length);
        Compare.Close(expected, db.ReadChecked(name), 0, 0, $"RowGather {name} on {device}");
    }
}
