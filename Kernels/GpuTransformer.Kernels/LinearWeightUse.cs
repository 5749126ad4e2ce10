namespace GpuTransformer.Kernels;

/// <summary>What a <see cref="LinearWeight"/> is read by, which decides the layouts it is kept in.</summary>
[Flags]
public enum LinearWeightUse
{
    /// <summary>The weight of a GEMM (<see cref="Gemm"/>).</summary>
    Gemm = 1,

    /// <summary>A token table read row by row (<see cref="Embedding"/>).</summary>
    Lookup = 2,

    /// <summary>Both: a tied embedding and output projection.</summary>
    GemmAndLookup = Gemm | Lookup,
}
