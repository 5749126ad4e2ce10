using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Model.Weights;

/// <summary>
/// Widens stored f32/f16/bf16 little-endian bytes to f32. Half to single uses integer bit manipulation so it is
/// exact for normals, subnormals, zeros and infinities and vectorises without F16C intrinsics.
/// </summary>
internal static class Float32Conversion
{
    private const uint HalfExponentMaskShifted = 0x7C00u << 13;
    private const uint ExponentRebias = (127 - 15) << 23;
    private const uint InfNanExtraRebias = (128 - 16) << 23;
    private const uint SubnormalMagicBits = 113u << 23;

    public static void Convert(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case TensorDType.F16:
                HalfToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case TensorDType.BF16:
                BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            default:
                throw new NotSupportedException($"Tensor dtype {dtype} cannot be converted to float32.");
        }
    }

    public static void HalfToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("Destination is shorter than the source.", nameof(destination));
        }

        Span<uint> output = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort src = ref MemoryMarshal.GetReference(source);
            ref uint dst = ref MemoryMarshal.GetReference(output);
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                Vector256<ushort> halves = Vector256.LoadUnsafe(ref src, (nuint)i);
                (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(halves);
                HalfToSingleBits(lower).StoreUnsafe(ref dst, (nuint)i);
                HalfToSingleBits(upper).StoreUnsafe(ref dst, (nuint)(i + Vector256<uint>.Count));
            }
        }

        for (; i < source.Length; i++)
        {
            output[i] = HalfToSingleBits(source[i]);
        }
    }

    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("Destination is shorter than the source.", nameof(destination));
        }

        Span<uint> output = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort src = ref MemoryMarshal.GetReference(source);
            ref uint dst = ref MemoryMarshal.GetReference(output);
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                Vector256<ushort> halves = Vector256.LoadUnsafe(ref src, (nuint)i);
                (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(halves);
                Vector256.ShiftLeft(lower, 16).StoreUnsafe(ref dst, (nuint)i);
                Vector256.ShiftLeft(upper, 16).StoreUnsafe(ref dst, (nuint)(i + Vector256<uint>.Count));
            }
        }

        for (; i < source.Length; i++)
        {
            output[i] = (uint)source[i] << 16;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HalfToSingleBits(ushort half)
    {
        uint h = half;
        uint bits = (h & 0x7FFFu) << 13;
        uint exponent = bits & HalfExponentMaskShifted;
        bits += ExponentRebias;
        if (exponent == HalfExponentMaskShifted)
        {
            bits += InfNanExtraRebias;
        }
        else if (exponent == 0)
        {
            // A subnormal half is an exact multiple of 2^-24: give it the implicit leading one of the smallest
            // normal exponent, then subtract that one back out in float arithmetic, which is exact here.
            bits += 1u << 23;
            bits = BitConverter.SingleToUInt32Bits(
                BitConverter.UInt32BitsToSingle(bits) - BitConverter.UInt32BitsToSingle(SubnormalMagicBits));
        }

        return bits | ((h & 0x8000u) << 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> HalfToSingleBits(Vector256<uint> h)
    {
        Vector256<uint> bits = Vector256.ShiftLeft(h & Vector256.Create(0x7FFFu), 13);
        Vector256<uint> exponent = bits & Vector256.Create(HalfExponentMaskShifted);
        bits += Vector256.Create(ExponentRebias);
        Vector256<uint> infOrNan = Vector256.Equals(exponent, Vector256.Create(HalfExponentMaskShifted));
        bits += infOrNan & Vector256.Create(InfNanExtraRebias);
        Vector256<uint> subnormal = Vector256.Equals(exponent, Vector256<uint>.Zero);
        Vector256<uint> renormalised = (
            (bits + Vector256.Create(1u << 23)).AsSingle() - Vector256.Create(SubnormalMagicBits).AsSingle()).AsUInt32();
        bits = Vector256.ConditionalSelect(subnormal, renormalised, bits);
        return bits | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16);
    }
}
