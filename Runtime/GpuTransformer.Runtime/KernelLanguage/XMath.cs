using System.Runtime.CompilerServices;

namespace GpuTransformer.Runtime;

/// <summary>
/// Math for kernels (ILGPU's names). Each function maps to the OpenCL C built-in or the CUDA single-precision
/// function of the same meaning; the CPU bodies here are what the emulator runs. Max and Min follow C's
/// <c>fmax</c>/<c>fmin</c>: a NaN argument loses to a number.
/// </summary>
public static class XMath
{
    /// <summary>e^x (OpenCL <c>exp</c>, CUDA <c>expf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => MathF.Exp(x);

    /// <summary>Natural logarithm (OpenCL <c>log</c>, CUDA <c>logf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log(float x) => MathF.Log(x);

    /// <summary>Square root (OpenCL <c>sqrt</c>, CUDA <c>sqrtf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float x) => MathF.Sqrt(x);

    /// <summary>1 / sqrt(x) (OpenCL <c>rsqrt</c>, CUDA <c>rsqrtf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Rsqrt(float x) => 1f / MathF.Sqrt(x);

    /// <summary>Hyperbolic tangent (OpenCL <c>tanh</c>, CUDA <c>tanhf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x) => MathF.Tanh(x);

    /// <summary>The error function (OpenCL <c>erf</c>, CUDA <c>erff</c>).</summary>
    public static float Erf(float x) => (float)SpecialFunctions.Erf(x);

    /// <summary>x^y (OpenCL <c>pow</c>, CUDA <c>powf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pow(float x, float y) => MathF.Pow(x, y);

    /// <summary>Absolute value (OpenCL <c>fabs</c>, CUDA <c>fabsf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Abs(float x) => MathF.Abs(x);

    /// <summary>Absolute value of an integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Abs(int x) => x < 0 ? -x : x;

    /// <summary>The larger value; a NaN argument loses (OpenCL <c>fmax</c>, CUDA <c>fmaxf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float x, float y) => float.MaxNumber(x, y);

    /// <summary>The smaller value; a NaN argument loses (OpenCL <c>fmin</c>, CUDA <c>fminf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(float x, float y) => float.MinNumber(x, y);

    /// <summary>The larger integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Max(int x, int y) => x > y ? x : y;

    /// <summary>The smaller integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Min(int x, int y) => x < y ? x : y;

    /// <summary>The larger unsigned integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Max(uint x, uint y) => x > y ? x : y;

    /// <summary>The smaller unsigned integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Min(uint x, uint y) => x < y ? x : y;

    /// <summary>x * y + z with one rounding (OpenCL <c>fma</c>, CUDA <c>fmaf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FusedMultiplyAdd(float x, float y, float z) => MathF.FusedMultiplyAdd(x, y, z);

    /// <summary>Largest integer value not above x (OpenCL <c>floor</c>, CUDA <c>floorf</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Floor(float x) => MathF.Floor(x);

    /// <summary>Whether x is NaN (OpenCL <c>isnan</c>, CUDA <c>isnan</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsNaN(float x) => float.IsNaN(x);

    /// <summary>Not a number: what a kernel writes where an input was invalid, so that it cannot pass unnoticed.</summary>
    public const float NaN = float.NaN;

    /// <summary>Positive infinity, for masked scores.</summary>
    public const float PositiveInfinity = float.PositiveInfinity;

    /// <summary>Negative infinity, for masked scores.</summary>
    public const float NegativeInfinity = float.NegativeInfinity;
}
