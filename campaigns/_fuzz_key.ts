/**
 * A throwaway 1024-bit RSA key for the frame fuzz, so a stream with an
 * RSA-encrypted InitConnect is the same bytes on every replay. It protects
 * nothing and must never be configured in a real OpenD.
 * @module
 */

/** The fuzz fixture key (PKCS#1 PEM). */
export const FUZZ_RSA_PEM: string = `
-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQDngG5d839XF1nQ0WzDMqPKdHgo4Riz8m8UQUV4i6qdL1gs1xa2
YqMz0LlFTlvq1fqX5YXnC8bk32Wpwz5IXgnzGAnxfEi4IvAGGSh6wYB2zhujN+K9
hy4fgpWg+nuvrTaj6pKLDzo2wQYJ1w5BDMXYvReYoMpX86GuNJqFGTo8zwIDAQAB
AoGBAKjdkSQtIx0nJlfg+8IjJUDf1mqTT46rcAVJW2CEGI8R4vLKboHZz4xTW2HH
t9rD/Uhhn1waxhlbL3A2wC7PkdcC8LsN6pnYNMQvJUfDBZvRsBQLeF3jiTKH0sd6
vLkmr+ly2Y9nHjCey0y+03tWUzFvUC0OYZeEgq3zSf8gxRypAkEA854EFDWL9rdh
pPtjgp/+AuafetnCUQJU/pk7zcVkr6VIILU1hFJGo6T0hUKu/DAjxfhJLBgDoCNW
kNPrzAo54wJBAPNExAC9Vk1gbxifgLUE0VPvCoU3f8Ak+qLjcxhZ1+F0CIojlLJm
5zQ4F7DutxMoYlFJuz1184mowI6LCuvy1SUCQDxMJxxNaJgnKX7pTeb97KQRKvYA
Qe1FE350tO2oZtRmp2SZFWbr6loEsRTuvVrkG2abnpjQVM1lEb8FBP7apRsCQDm2
irmSMbNRuYmh7asEZZUAFQLd09UF8OBMDbYtOmYmXRBIuLJKb3eYBybWu2A0KH8Y
eu9t2EVEX8pxejnX9nECQEJ2Ru/41h27ukIPnF5ZGiiq1WwhSRji11Zc9udtjvfX
LKinSpekyqF9L0brEjThkSIANARNReICEktkcKBuvVs=
-----END RSA PRIVATE KEY-----
`;
