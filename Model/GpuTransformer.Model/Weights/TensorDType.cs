namespace GpuTransformer.Model.Weights;

/// <summary>
/// Element type of a stored tensor. Only <see cref="F32"/>, <see cref="F16"/> and <see cref="BF16"/> can be read as
/// floats; the others are recognised so that a file using them is rejected with a message naming the type.
/// </summary>
public enum TensorDType
{
    /// <summary>IEEE 754 binary32.</summary>
    F32,

    /// <summary>IEEE 754 binary16.</summary>
    F16,

    /// <summary>bfloat16: the upper 16 bits of a binary32.</summary>
    BF16,

    /// <summary>IEEE 754 binary64 (not readable as weights).</summary>
    F64,

    /// <summary>8-bit float, 4 exponent bits and 3 mantissa bits (not readable as weights).</summary>
    F8E4M3,

    /// <summary>8-bit float, 5 exponent bits and 2 mantissa bits (not readable as weights).</summary>
    F8E5M2,

    /// <summary>Signed 64-bit integer (not readable as weights).</summary>
    I64,

    /// <summary>Signed 32-bit integer (not readable as weights).</summary>
    I32,

    /// <summary>Signed 16-bit integer (not readable as weights).</summary>
    I16,

    /// <summary>Signed 8-bit integer (not readable as weights).</summary>
    I8,

    /// <summary>Unsigned 64-bit integer (not readable as weights).</summary>
    U64,

    /// <summary>Unsigned 32-bit integer (not readable as weights).</summary>
    U32,

    /// <summary>Unsigned 16-bit integer (not readable as weights).</summary>
    U16,

    /// <summary>Unsigned 8-bit integer (not readable as weights).</summary>
    U8,

    /// <summary>Boolean stored as one byte (not readable as weights).</summary>
    Bool,
}
