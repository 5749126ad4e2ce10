namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// The few definitions every generated program starts with: the function qualifier for helpers, and integer
/// min/max/abs and a NaN test under names of our own, because OpenCL C and CUDA spell (or lack) them differently.
/// </summary>
internal static class CPrelude
{
    /// <summary>The prelude for <paramref name="dialect"/> with only the functions <paramref name="body"/> uses (unused static functions draw warnings).</summary>
    public static string For(CDialect dialect, string body)
    {
        var text = new System.Text.StringBuilder();
        foreach (string line in (dialect == CDialect.OpenCL ? OpenCL : Cuda).Split('\n'))
        {
            int start = line.IndexOf(" gt_", System.StringComparison.Ordinal);
            if (line.Length == 0)
            {
                continue;
            }

            if (start < 0 || body.Contains(line.Substring(start + 1, line.IndexOf('(') - start - 1) + "("))
            {
                text.Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    private const string OpenCL =
        "#define GT_FN static inline\n" +
        Common;

    // NVRTC declares the math functions and __int_as_float itself; a stand-alone compiler needs them declared first.
    private const string Cuda =
        "#define GT_FN static __device__ inline\n" +
        "typedef unsigned int uint;\n" +
        Common;

    private const string Common =
        "GT_FN int gt_abs_i(int x) { return x < 0 ? -x : x; }\n" +
        "GT_FN int gt_max_i(int x, int y) { return x > y ? x : y; }\n" +
        "GT_FN int gt_min_i(int x, int y) { return x < y ? x : y; }\n" +
        "GT_FN uint gt_max_u(uint x, uint y) { return x > y ? x : y; }\n" +
        "GT_FN uint gt_min_u(uint x, uint y) { return x < y ? x : y; }\n" +
        "GT_FN bool gt_isnan(float x) { return x != x; }\n";
}
