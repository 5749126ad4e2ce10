using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>How a backend's output is compared with the scalar reference: NaN and infinity first, then the normalised error.</summary>
public static class Compare
{
    /// <summary>
    /// Fails on a NaN or infinity where the reference has none (and the reverse), then when
    /// <c>‖actual − reference‖₂ / max(‖reference‖₂, √n)</c> exceeds <paramref name="normalized"/> (outputs near zero
    /// are held to float error at unit scale, not to a relative error of their tiny values) or one element differs by
    /// more than <paramref name="elementwise"/> × max(1, max|reference|).
    /// </summary>
    /// <param name="reference">The scalar reference, in double.</param>
    /// <param name="actual">The backend's output.</param>
    /// <param name="normalized">Allowed normalised error.</param>
    /// <param name="elementwise">Allowed error of one element, relative to the output's scale.</param>
    /// <param name="what">The case, for messages.</param>
    public static void Close(ReadOnlySpan<double> reference, ReadOnlySpan<float> actual, double normalized, double elementwise, string what)
    {
        Assert.True(reference.Length == actual.Length, $"{what}: {actual.Length} values, reference has {reference.Length}");
        double diff = 0, norm = 0, scale = 1;
        foreach (double r in reference)
        {
            if (double.IsFinite(r))
            {
                scale = Math.Max(scale, Math.Abs(r));
            }
        }

        int worst = -1;
        double worstError = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = reference[i], a = actual[i];
            if (!double.IsFinite(r) || !double.IsFinite(a))
            {
                Assert.True(r.Equals(a), $"{what}[{i}]: got {a}, reference {r}");
                continue;
            }

            double e = Math.Abs(a - r);
            diff += e * e;
            norm += r * r;
            if (e > worstError)
            {
                worstError = e;
                worst = i;
            }
        }

        double relative = reference.Length == 0 ? 0 : Math.Sqrt(diff / Math.Max(norm, reference.Length));
        Assert.True(relative <= normalized, $"{what}: normalised error {relative:g3} exceeds {normalized:g3}");
        if (worst >= 0)
        {
            Assert.True(worstError <= elementwise * scale, $"{what}[{worst}]: got {actual[worst]}, reference {reference[worst]} (error {worstError:g3} > {elementwise * scale:g3})");
        }
    }
}
