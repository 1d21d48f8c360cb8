package aws

import "go.uber.org/zap"

func zapAction(a Action) []zap.Field {
	return []zap.Field{zap.String("op", a.Op), zap.String("kind", a.Kind), zap.String("name", a.Name)}
}
