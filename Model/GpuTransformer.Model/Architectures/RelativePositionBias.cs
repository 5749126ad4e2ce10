namespace GpuTransformer.Model.Architectures;

/// <summary>
/// T5's relative position bias: key-minus-query distances bucketed (exactly below half the buckets, logarithmically
/// up to max_distance) and looked up per head. Computed by layer 0 of a stack and added to every layer's scores.
/// </summary>
internal sealed class RelativePositionBias(float[] table, int buckets, int heads, int maxDistance, bool bidirectional)
{
    /// <summary>Writes the bias for queries at positions [queryStart, queryStart + queries) against keys [0, keys), as [heads, queries, keys].</summary>
    public void Compute(int queryStart, int queries, int keys, Span<float> destination)
    {
        for (int i = 0; i < queries; i++)
        {
            for (int j = 0; j < keys; j++)
            {
                int bucket = Bucket(j - (queryStart + i));
                for (int h = 0; h < heads; h++)
                {
                    destination[(h * queries + i) * keys + j] = table[bucket * heads + h];
                }
            }
        }
    }

    /// <summary>HF's <c>_relative_position_bucket</c>, with its float32 logarithm so boundaries fall where PyTorch puts them.</summary>
    internal int Bucket(int relativePosition)
    {
        int numBuckets = buckets, result = 0;
        if (bidirectional)
        {
            numBuckets /= 2;
            result += relativePosition > 0 ? numBuckets : 0;
            relativePosition = Math.Abs(relativePosition);
        }
        else
        {
            relativePosition = -Math.Min(relativePosition, 0);
        }

        int maxExact = numBuckets / 2;
        if (relativePosition < maxExact)
        {
            return result + relativePosition;
        }

        float scaled = MathF.Log(relativePosition / (float)maxExact) / (float)Math.Log(maxDistance / (double)maxExact) * (numBuckets - maxExact);
        return result + Math.Min(maxExact + (int)scaled, numBuckets - 1);
    }
}
