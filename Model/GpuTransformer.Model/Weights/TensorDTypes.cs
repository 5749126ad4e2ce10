namespace GpuTransformer.Model.Weights;

internal static class TensorDTypes
{
    public static int SizeOf(TensorDType dtype) => dtype switch
    {
        TensorDType.F64 or TensorDType.I64 or TensorDType.U64 => 8,
        TensorDType.F32 or TensorDType.I32 or TensorDType.U32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 or TensorDType.U16 => 2,
        TensorDType.F8E4M3 or TensorDType.F8E5M2 or TensorDType.I8 or TensorDType.U8 or TensorDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor dtype."),
    };

    public static bool IsReadableAsFloat32(TensorDType dtype) =>
        dtype is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16;

    /// <summary>The dtype names the safetensors format writes in its header.</summary>
    public static bool TryParseSafeTensorsName(string name, out TensorDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = TensorDType.F32; return true;
            case "F16": dtype = TensorDType.F16; return true;
            case "BF16": dtype = TensorDType.BF16; return true;
            case "F64": dtype = TensorDType.F64; return true;
            case "F8_E4M3": dtype = TensorDType.F8E4M3; return true;
            case "F8_E5M2": dtype = TensorDType.F8E5M2; return true;
            case "I64": dtype = TensorDType.I64; return true;
            case "I32": dtype = TensorDType.I32; return true;
            case "I16": dtype = TensorDType.I16; return true;
            case "I8": dtype = TensorDType.I8; return true;
            case "U64": dtype = TensorDType.U64; return true;
            case "U32": dtype = TensorDType.U32; return true;
            case "U16": dtype = TensorDType.U16; return true;
            case "U8": dtype = TensorDType.U8; return true;
            case "BOOL": dtype = TensorDType.Bool; return true;
            default: dtype = default; return false;
        }
    }
}
