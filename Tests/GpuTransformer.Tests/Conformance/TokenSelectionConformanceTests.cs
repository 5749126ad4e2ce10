using GpuTransformer.Kernels;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// <see cref="TokenSelection.Select"/> on every backend against the reference: ids must be identical (ties broken
/// towards the lower id, bans and forced tokens honoured), scores and logsumexp within float error. Inputs are spread
/// 0.01 apart so that only the deliberate ties are ties.
/// </summary>
public sealed class TokenSelectionConformanceTests
{
    private static readonly Dictionary<string, SelectionCase> Cases = Build();

    /// <summary>Every case on every backend.</summary>
    public static TheoryData<string, string> Rows() => ConformanceBackends.Rows(Cases.Keys);

    /// <summary>Candidates and logsumexp match the reference.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void MatchesReference(string name, string device)
    {
        var c = Cases[name];
        var logits = Logits(c, RandomData.Seed(name));
        var (expectedScores, expectedIds, expectedLse) = Reference(c, logits);

        using var accelerator = ConformanceBackends.Open(device);
        using var lb = new GuardedBuffer<float>(accelerator, logits.Length, 321f, logits);
        using var ob = new GuardedBuffer<int>(accelerator, c.Offsets.Length, -9, c.Offsets);
        using var eb = new GuardedBuffer<int>(accelerator, c.Edits.Length, -9, c.Edits);
        using var rb = new GuardedBuffer<float>(accelerator, c.RowOffsets.Length, 321f, c.RowOffsets);
        using var sb = new GuardedBuffer<float>(accelerator, c.Rows * c.K, 321f);
        using var ib = new GuardedBuffer<int>(accelerator, c.Rows * c.K, -9);
        using var xb = new GuardedBuffer<float>(accelerator, c.Rows, 321f);
        TokenSelection.Select(
            accelerator, lb.View, c.Rows, c.Vocab, new TokenSelectionOptions(c.K, c.LogSoftmax, c.Penalty),
            c.Offsets.Length > 0 ? ob.View : default, eb.View, c.RowOffsets.Length > 0 ? rb.View : default, sb.View, ib.View, xb.View);
        string what = $"{name} on {device}";
        Assert.Equal(expectedIds, ib.ReadChecked(what));
        Compare.Close(expectedScores, sb.ReadChecked(what), 1e-5, 1e-5, what + " scores");
        Compare.Close(expectedLse, xb.ReadChecked(what), 1e-5, 1e-5, what + " logsumexp");
        lb.ReadChecked(what);
    }

    private static float[] Logits(SelectionCase c, int seed)
    {
        var random = new Random(seed);
        var logits = new float[c.Rows * c.Vocab];
        for (int r = 0; r < c.Rows; r++)
        {
            var order = Enumerable.Range(0, c.Vocab).OrderBy(_ => random.Next()).ToArray();
            for (int t = 0; t < c.Vocab; t++)
            {
                logits[r * c.Vocab + t] = (order[t] - c.Vocab / 2) * 0.01f;
            }

            // Exact ties, including one with the row's best, to pin the tie-break to the lower id.
            if (c.Vocab > 20)
            {
                int best = Enumerable.Range(0, c.Vocab).MaxBy(t => logits[r * c.Vocab + t]);
                logits[r * c.Vocab + (best + 7) % c.Vocab] = logits[r * c.Vocab + best];
                logits[r * c.Vocab + 3] = logits[r * c.Vocab + 11];
            }
        }

        return logits;
    }

    private static (double[] Scores, int[] Ids, double[] Lse) Reference(SelectionCase c, float[] logits)
    {
        var scores = new double[c.Rows * c.K];
        var ids = new int[c.Rows * c.K];
        var lse = new double[c.Rows];
        for (int r = 0; r < c.Rows; r++)
        {
            var s = logits.AsSpan(r * c.Vocab, c.Vocab).ToArray().Select(v => (double)v).ToArray();
            if (c.LogSoftmax)
            {
                double rowLse = ReferenceOps.LogSumExp(s);
                for (int t = 0; t < s.Length; t++)
                {
                    s[t] -= rowLse;
                }
            }

            if (c.Offsets.Length > 0)
            {
                var forced = new List<int>();
                for (int e = c.Offsets[r]; e < c.Offsets[r + 1]; e++)
                {
                    int token = c.Edits[2 * e];
                    switch ((TokenEditKind)c.Edits[2 * e + 1])
                    {
                        case TokenEditKind.Ban:
                            s[token] = double.NegativeInfinity;
                            break;
                        case TokenEditKind.Penalty:
                            s[token] = s[token] < 0 ? s[token] * c.Penalty : s[token] / c.Penalty;
                            break;
                        default:
                            forced.Add(token);
                            break;
                    }
                }

                if (forced.Count > 0)
                {
                    Array.Fill(s, double.NegativeInfinity);
                    forced.ForEach(t => s[t] = 0);
                }
            }

            lse[r] = ReferenceOps.LogSumExp(s);
            double offset = c.RowOffsets.Length > 0 ? c.RowOffsets[r] : 0;
            var best = Enumerable.Range(0, c.Vocab).OrderByDescending(t => s[t]).ThenBy(t => t).Take(c.K).ToArray();
            for (int j = 0; j < c.K; j++)
            {
                ids[r * c.K + j] = best[j];
                scores[r * c.K + j] = s[best[j]] + offset;
            }
        }

        return (scores, ids, lse);
    }

    private static Dictionary<string, SelectionCase> Build()
    {
        var cases = new Dictionary<string, SelectionCase>();
        void Add(string prefix, int rows, int vocab, int k, bool logSoftmax, bool edits = false, bool offsets = false, float penalty = 1f, string variant = "")
        {
            var offsetsArray = edits ? new int[rows + 1] : [];
            var editList = new List<int>();
            if (edits)
            {
                for (int r = 0; r < rows; r++)
                {
                    offsetsArray[r] = editList.Count / 2;
                    // Row r: penalise a few tokens, ban two (one of them penalised too), and force on every third row.
                    foreach (int t in new[] { 1 % vocab, (5 + r) % vocab, (vocab - 1) % vocab })
                    {
                        editList.AddRange([t, (int)TokenEditKind.Penalty]);
                    }

                    editList.AddRange([(5 + r) % vocab, (int)TokenEditKind.Ban, (2 * r + 3) % vocab, (int)TokenEditKind.Ban]);
                    if (r % 3 == 2)
                    {
                        editList.AddRange([(r + 4) % vocab, (int)TokenEditKind.Force]);
                        if (variant == "two forced")
                        {
                            editList.AddRange([(r + 9) % vocab, (int)TokenEditKind.Force]);
                        }
                    }
                }

                offsetsArray[rows] = editList.Count / 2;
            }

            var rowOffsets = offsets ? RandomData.Uniform(rows + vocab, rows, 5f) : [];
            string name = $"{prefix} rows{rows} vocab{vocab} k{k}{(logSoftmax ? " logsoftmax" : "")}{(edits ? " edits" : "")}{(offsets ? " offsets" : "")}{(penalty != 1f ? $" penalty{penalty}" : "")}{(variant.Length > 0 ? " " + variant : "")}";
            cases[name] = new SelectionCase(rows, vocab, k, logSoftmax, penalty, offsetsArray, [.. editList], rowOffsets);
        }

        Add("small", 1, 1, 1, false);
        Add("small", 2, 5, 2, true);
        Add("small", 3, 9, 4, false, edits: true, penalty: 1.3f);
        Add("small", 3, 8, 8, true, edits: true, offsets: true, penalty: 0.7f, variant: "two forced");
        Add("greedy", 12, 871, 1, false, edits: true, penalty: 1.2f);
        Add("greedy", 3, 7700, 1, false);
        Add("beam", 12, 871, 8, true, edits: true, offsets: true);
        Add("beam", 8, 2000, 16, true, offsets: true, penalty: 1.5f, edits: true, variant: "two forced");
        Add("beam", 2, 300, 64, true, offsets: true);
        return cases;
    }

    private sealed record SelectionCase(int Rows, int Vocab, int K, bool LogSoftmax, float Penalty, int[] Offsets, int[] Edits, float[] RowOffsets);
}
