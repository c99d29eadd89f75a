# scripts/lib/dotnet.sh - the .NET steps the scripts share (sourced; `root` is the repository).
#   dotnet_require          fails with a clear message when the .NET SDK (8.0 or later) is not on PATH
#   dotnet_build_peer LIB   builds the C# peer (build/dotnet/WipcPeer/bin/Release/net8.0/WipcPeer.dll)
#                           and Wipc.dll against the Linux build whose libwipc.so.1 is LIB
# Every dotnet call runs without telemetry, first-run banner or workload checks.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet_require() {
  if ! command -v dotnet >/dev/null; then
    echo "wipc: the .NET SDK (dotnet, 8.0 or later) is not on PATH: the C# binding (bindings/csharp/Wipc.csproj)" \
         "is built, tested and packed with it (https://dot.net; Debian: Microsoft's dotnet-sdk packages)" >&2
    return 1
  fi
}

dotnet_build_peer() {   # dotnet_build_peer <dir>/libwipc.so.1
  dotnet_require || return 1
  dotnet build "$root/bindings/csharp/peer/WipcPeer.csproj" -c Release -nologo -v q \
    "-p:WipcLinuxBuild=$(dirname "$1")" >/dev/null \
    || { echo "wipc: dotnet build of bindings/csharp/peer failed" >&2; return 1; }
}
