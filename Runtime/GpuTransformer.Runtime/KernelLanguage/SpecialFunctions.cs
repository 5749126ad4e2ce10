namespace GpuTransformer.Runtime;

/// <summary>Host implementations of functions .NET's math classes lack, accurate enough to serve as references.</summary>
public static class SpecialFunctions
{
    /// <summary>The error function, accurate to about 1e-15.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>erf(x).</returns>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double result;
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (ax < 2.5)
        {
            // Maclaurin series: converges fast here and loses at most ~3 of double's 16 digits.
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            result = sum * 1.1283791670955126;
        }
        else
        {
            // Continued fraction for erfc, evaluated bottom-up; 60 levels are plenty for |x| >= 2.5.
            double f = 0;
            for (int n = 60; n >= 1; n--)
            {
                f = n / 2.0 / (ax + f);
            }

            result = 1.0 - Math.Exp(-ax * ax) / (ax + f) * 0.5641895835477563;
        }

        return x < 0 ? -result : result;
    }
}
